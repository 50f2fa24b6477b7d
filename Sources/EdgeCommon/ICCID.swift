/// A SIM's ICCID, kept as an opaque string: never a number (leading zeros, hex letters
/// on some test cards, and 20 digits overflow nothing but still must not be arithmetic).
///
/// Modems report it in many spellings (`"8988…F"`, `+QCCID: 8988…`, lowercase `f`
/// padding); `init(parsing:)` takes the bare value and normalises it. emnify's API
/// names a SIM by the 19-digit ICCID without the Luhn check digit (`q=iccid:`), or by
/// all 20 digits (`q=iccid_with_luhn:`).
public struct ICCID: Hashable, Sendable, CustomStringConvertible, Codable {
    /// The value as it was read, before normalisation (for diagnostics).
    public let asRead: String
    /// Upper-case digits (and hex letters), quotes, blanks and trailing `F` padding removed.
    public let normalized: String

    public init(parsing text: String) throws(ICCIDError) {
        var value = Substring(text).trimmingWhitespace()
        while let first = value.first, first == "\"" || first == "'" { value = value.dropFirst() }
        while let last = value.last, last == "\"" || last == "'" { value = value.dropLast() }
        value = value.trimmingWhitespace()
        // Padding: the SIM stores the ICCID as BCD in 10 bytes; unused nibbles are F.
        while let last = value.last, last == "F" || last == "f" { value = value.dropLast() }
        let upper = value.uppercased()
        guard !upper.isEmpty else { throw .empty }
        guard upper.allSatisfy({ $0.isHexDigit && $0.isASCII }) else { throw .invalidCharacters(text) }
        guard (18...20).contains(upper.count) else { throw .invalidLength(text, upper.count) }
        self.asRead = text
        self.normalized = upper
    }

    public var description: String { normalized }

    /// True when the last digit is a valid Luhn check digit for the others. Only a hint:
    /// real ICCIDs exist that fail it.
    public var hasValidLuhnCheckDigit: Bool {
        ICCID.luhnValid(normalized)
    }

    /// The 19-digit form that emnify's `iccid` field holds (no check digit), or nil when it
    /// cannot be known (18 digits, hex letters).
    public var withoutCheckDigit: String? {
        switch normalized.count {
        case 20: return String(normalized.dropLast())
        case 19: return normalized
        default: return nil
        }
    }

    /// The form that names the SIM in MQTT topics (`emnify/<this>/…`): emnify's `iccid` field where
    /// it can be known, otherwise the digits as read. One rule for the agent, diagnose and the relay.
    public var topicForm: String { withoutCheckDigit ?? normalized }

    /// The 20-digit form with the check digit, as emnify's `iccid_with_luhn` expects.
    public var withCheckDigit: String? {
        switch normalized.count {
        case 20: return normalized
        case 19:
            guard let digit = ICCID.luhnCheckDigit(for: normalized) else { return nil }
            return normalized + String(digit)
        default: return nil
        }
    }

    /// The `q` filter for `GET /api/v1/sim`: 20 digits as read go to `iccid_with_luhn`
    /// (the modem's own check digit, right or wrong, is what emnify stores), 19 to `iccid`.
    public var simLookupQuery: String {
        if normalized.count == 20 { return "iccid_with_luhn:\(normalized)" }
        return "iccid:\(normalized)"
    }

    static func luhnValid(_ digits: String) -> Bool {
        guard digits.count >= 2, let check = digits.last?.wholeNumberValue,
            let computed = luhnCheckDigit(for: String(digits.dropLast()))
        else { return false }
        return check == computed
    }

    static func luhnCheckDigit(for payload: String) -> Int? {
        var sum = 0
        for (index, character) in payload.reversed().enumerated() {
            guard let digit = character.wholeNumberValue, character.isASCII else { return nil }
            if index % 2 == 0 {
                let doubled = digit * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += digit
            }
        }
        return (10 - sum % 10) % 10
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(parsing: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(normalized)
    }
}

public enum ICCIDError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case invalidCharacters(String)
    case invalidLength(String, Int)

    public var description: String {
        switch self {
        case .empty:
            return "the ICCID is empty; check that a SIM is inserted and readable"
        case .invalidCharacters(let text):
            return "'\(text)' is not an ICCID (only digits, hex letters and F padding are allowed)"
        case .invalidLength(let text, let count):
            return "'\(text)' has \(count) digits; an ICCID has 18 to 20"
        }
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var value = self
        while let first = value.first, first.isWhitespace { value = value.dropFirst() }
        while let last = value.last, last.isWhitespace { value = value.dropLast() }
        return value
    }
}
