import CutoverCore
import CutoverExport
import CutoverStore

extension Components.Schemas.ExportForm {
    package init(_ form: ExportForm) {
        switch form {
        case .vhost: self = .vhost
        case .htaccess: self = .htaccess
        case .rewritemap: self = .rewritemap
        case .dbm: self = .dbm
        case .tree: self = .tree
        }
    }
}

extension Components.Schemas.ExportItem {
    /// A stored export, without its text.
    package init(_ record: ExportRecord) {
        self.init(createdAt: record.createdAt, form: .init(record.form), id: record.id.map(Int.init), sha256: record.sha256)
    }
}

extension Components.Schemas.ExportDiff {
    /// What would be rendered now against the newest stored export of its form.
    package init(_ diff: ExportDiff) {
        self.init(
            changed: diff.changed,
            diff: diff.diff,
            form: .init(diff.form),
            previousCreatedAt: diff.previousCreatedAt,
            previousID: diff.previousID.map(Int.init),
            sha256: diff.sha256
        )
    }
}

extension Components.Schemas.OwnerChange {
    /// A URL whose owner the next export changes; `from` absent when Apache answers it itself.
    package init(_ change: OwnerChangePreview) {
        self.init(before: change.before, from: change.from.map(Components.Schemas.Owner.init), path: change.path, to: .init(change.to))
    }
}

extension Components.Schemas.FlipResult {
    package init(_ result: FlipResult) { self.init(changed: result.changed, unchanged: result.unchanged) }
}
