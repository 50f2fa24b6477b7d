/// A failure the user can act on: printed as one line, without a stack of types, exit code 1.
public struct CommandFailure: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
