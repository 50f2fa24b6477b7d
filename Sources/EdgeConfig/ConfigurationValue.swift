import EdgeCommon

/// A TOML value as the key definitions see it, independent of the TOML library.
public enum ConfigurationValue: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case float(Double)
    case boolean(Bool)
    /// An array (`mqtt.hosts`).
    case array([ConfigurationValue])
    /// Tables, dates and times: no key takes them; the name is for messages.
    case other(typeName: String)

    var typeName: String {
        switch self {
        case .string: return "a string"
        case .integer: return "an integer"
        case .float: return "a floating-point number"
        case .boolean: return "a boolean"
        case .array: return "an array"
        case .other(let name): return name
        }
    }
}

/// How each kind of value is read and checked. Each function returns the value or a message
/// saying what was expected; the loader adds the key and line.
enum ValueReader {
    static func string(_ value: ConfigurationValue) -> Result<String, Message> {
        guard case .string(let text) = value else {
            return .failure("expected a string in quotes, found \(value.typeName)")
        }
        return .success(text)
    }

    static func integer(_ value: ConfigurationValue, in range: ClosedRange<Int>) -> Result<Int, Message> {
        guard case .integer(let number) = value else {
            return .failure("expected an integer, found \(value.typeName)")
        }
        guard range.contains(number) else {
            return .failure("\(number) is out of range; expected \(range.lowerBound) to \(range.upperBound)")
        }
        return .success(number)
    }

    /// A duration text (`"30s"`, `"1h30m"`) or an integer number of seconds; always > 0.
    static func duration(_ value: ConfigurationValue, max: Duration? = nil) -> Result<Duration, Message> {
        let duration: Duration
        switch value {
        case .string(let text):
            do {
                duration = try DurationText.parse(text)
            } catch {
                return .failure("\(error.description); expected a duration like \"30s\", \"10m\" or \"1h30m\"")
            }
        case .integer(let seconds):
            guard seconds >= 0 else {
                return .failure("\(seconds) is negative; expected a duration like \"30s\" or a number of seconds")
            }
            duration = .seconds(seconds)
        default:
            return .failure("expected a duration like \"30s\" or an integer number of seconds, found \(value.typeName)")
        }
        guard duration > .zero else {
            return .failure("the duration must be greater than zero")
        }
        if let max, duration > max {
            return .failure("\(DurationText.format(duration)) is too long; the most is \(DurationText.format(max))")
        }
        return .success(duration)
    }

    static func choice<E: RawRepresentable & CaseIterable>(_ value: ConfigurationValue, _: E.Type) -> Result<E, Message>
    where E.RawValue == String {
        let allowed = E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        // `protocol = 5` is a natural slip for `"5"`.
        if case .integer(let number) = value, let match = E(rawValue: String(number)) {
            return .success(match)
        }
        if case .float(let number) = value, let match = E(rawValue: String(number)) {
            return .success(match)
        }
        guard case .string(let text) = value else {
            return .failure("expected one of \(allowed), found \(value.typeName)")
        }
        guard let match = E(rawValue: text) ?? E(rawValue: text.lowercased()) else {
            return .failure("\"\(text)\" is not allowed; expected one of \(allowed)")
        }
        return .success(match)
    }
}

/// A problem's text before the loader gives it a key and a line.
struct Message: Error, Sendable, Equatable, ExpressibleByStringInterpolation {
    let text: String
    init(_ text: String) { self.text = text }
    init(stringLiteral value: String) { self.text = value }
    init(stringInterpolation: DefaultStringInterpolation) {
        self.text = String(stringInterpolation: stringInterpolation)
    }
}
