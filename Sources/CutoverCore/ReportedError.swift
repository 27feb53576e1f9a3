/// An error that says what kind of failure it is for the person who caused it, so each shell
/// reports it without knowing the module it came from: the REST API picks a status from `kind`
/// (404, 409, 422, or 500 with the message kept out of the answer), the CLI prints
/// `description`. A module's errors conform beside their declaration; a new module's errors need
/// no change to the API.
public protocol ReportedError: Error, CustomStringConvertible {
    var kind: ErrorKind { get }
}

/// What went wrong, in the user's terms rather than a protocol's.
public enum ErrorKind: Sendable, Hashable {
    /// Something named does not exist (a site, a URL, a job).
    case notFound
    /// The request clashes with the current state (a name taken, a job already running).
    case conflict
    /// A value given is not acceptable; `description` says which and why.
    case invalid
    /// The tool itself failed (storage, the file system): not the user's input. The details
    /// go to the log, not to the client.
    case failed
}
