/// Splits a JSON array into the exact bytes of each element, so that an event can be passed
/// on unchanged (no re-encoding: key order, number spelling and unknown fields survive).
///
/// It validates the structure it walks (strings, escapes, nesting, commas) but not the
/// grammar of numbers and literals; each element is then decoded by `JSONDecoder`, which
/// does. The walk is iterative, so any depth is measured without recursion; an element nested
/// deeper than `maxDepth` must not reach the (recursive) decoder, so hostile input cannot
/// exhaust the stack.
public enum JSONArraySplitter {
    public static let maxDepth = 64

    /// One element: its exact bytes and how deeply it nests (`42` is 0, `{"a":[1]}` is 2).
    public struct Element: Sendable {
        public var bytes: ArraySlice<UInt8>
        public var depth: Int
        public var isTooDeep: Bool { depth > JSONArraySplitter.maxDepth }
    }

    /// The elements, refusing the whole array if one nests deeper than `maxDepth`.
    public static func split(_ bytes: [UInt8]) throws(APIDecodingError) -> [ArraySlice<UInt8>] {
        let elements = try elements(bytes)
        if elements.contains(where: \.isTooDeep) { throw .tooDeep(limit: maxDepth) }
        return elements.map(\.bytes)
    }

    /// The elements with their depth, so that a caller can set aside one too-deep element and
    /// still read its neighbours (one hostile event must not block a whole feed).
    public static func elements(_ bytes: [UInt8]) throws(APIDecodingError) -> [Element] {
        var index = skipWhitespace(bytes, from: 0)
        guard index < bytes.count, bytes[index] == UInt8(ascii: "[") else {
            throw .notAnArray(snippet: snippet(bytes))
        }
        index += 1
        var elements: [Element] = []
        index = skipWhitespace(bytes, from: index)
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            try expectEnd(bytes, from: index + 1)
            return []
        }
        while true {
            index = skipWhitespace(bytes, from: index)
            let start = index
            let depth: Int
            (index, depth) = try skipValue(bytes, from: index)
            elements.append(Element(bytes: bytes[start..<index], depth: depth))
            index = skipWhitespace(bytes, from: index)
            guard index < bytes.count else { throw .truncated }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                try expectEnd(bytes, from: index + 1)
                return elements
            default: throw .unexpectedByte(offset: index)
            }
        }
    }

    private static func expectEnd(_ bytes: [UInt8], from index: Int) throws(APIDecodingError) {
        guard skipWhitespace(bytes, from: index) == bytes.count else {
            throw .unexpectedByte(offset: skipWhitespace(bytes, from: index))
        }
    }

    /// Returns the index just past the value starting at `start`, and the value's deepest nesting.
    private static func skipValue(_ bytes: [UInt8], from start: Int) throws(APIDecodingError) -> (Int, Int) {
        var index = start
        var depth = 0
        var deepest = 0
        guard index < bytes.count else { throw .truncated }
        repeat {
            guard index < bytes.count else { throw .truncated }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                deepest = max(deepest, depth)
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard depth > 0 else { throw .unexpectedByte(offset: index) }
                depth -= 1
                index += 1
            case UInt8(ascii: "\""):
                index = try skipString(bytes, from: index)
            case UInt8(ascii: ","), UInt8(ascii: ":"), 0x20, 0x09, 0x0A, 0x0D:
                guard depth > 0 else {
                    // An element is never empty: `[1,,2]` and `[:]` are malformed.
                    guard index > start else { throw .unexpectedByte(offset: index) }
                    return (index, deepest)
                }
                index += 1
            default:
                // Numbers and literals: run to the next delimiter.
                while index < bytes.count, !isDelimiter(bytes[index]) { index += 1 }
                if depth == 0 { return (index, deepest) }
            }
        } while depth > 0
        return (index, deepest)
    }

    private static func skipString(_ bytes: [UInt8], from start: Int) throws(APIDecodingError) -> Int {
        var index = start + 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return index + 1
            default: index += 1
            }
        }
        throw .truncated
    }

    private static func isDelimiter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: ":"), 0x20, 0x09, 0x0A, 0x0D,
            UInt8(ascii: "\""), UInt8(ascii: "{"), UInt8(ascii: "["):
            return true
        default: return false
        }
    }

    private static func skipWhitespace(_ bytes: [UInt8], from start: Int) -> Int {
        var index = start
        while index < bytes.count,
            bytes[index] == 0x20 || bytes[index] == 0x09 || bytes[index] == 0x0A || bytes[index] == 0x0D
        {
            index += 1
        }
        return index
    }

    static func snippet(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix(80), as: UTF8.self)
    }
}

/// The API answered, but not with what the client can use.
public enum APIDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    case notAnArray(snippet: String)
    case truncated
    case unexpectedByte(offset: Int)
    case tooDeep(limit: Int)
    case invalidEvent(index: Int, reason: String)
    case invalidObject(String)

    public var description: String {
        switch self {
        case .notAnArray(let snippet): return "expected a JSON array, got '\(snippet)'"
        case .truncated: return "the JSON ends in the middle of a value (truncated answer)"
        case .unexpectedByte(let offset): return "malformed JSON at byte \(offset)"
        case .tooDeep(let limit): return "JSON nested deeper than \(limit) levels was refused"
        case .invalidEvent(let index, let reason): return "event \(index) of the page is not a valid event: \(reason)"
        case .invalidObject(let reason): return "unexpected answer: \(reason)"
        }
    }
}
