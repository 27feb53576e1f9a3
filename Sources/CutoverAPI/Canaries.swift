import CutoverStore

/// Both sides' figures of a canary analysis, as the API shows them.
extension Components.Schemas.CanaryFigures {
    package init(_ figures: CanaryFigures) {
        self.init(
            latencyP: figures.latencyP,
            phpErrors: figures.phpErrors,
            phpP50: figures.phpP50,
            phpP95: figures.phpP95,
            phpP99: figures.phpP99,
            phpRequests: figures.phpRequests,
            swiftErrors: figures.swiftErrors,
            swiftP50: figures.swiftP50,
            swiftP95: figures.swiftP95,
            swiftP99: figures.swiftP99,
            swiftRequests: figures.swiftRequests
        )
    }
}
