/// Reads an event's fields in one pass over its bytes, for the common case: JSON in plain
/// ASCII without escapes, every field of the type the decoder expects. On a backfill,
/// `JSONDecoder` was about 40 % of the agent's CPU.
///
/// It can only agree with the decoder: it checks the whole element against JSON's grammar
/// (RFC 8259), and anything it does not handle exactly as `EmnifyEvent`'s `Decodable` path
/// does — an escape, a byte above 0x7F, an unexpected type, a repeated key, a missing id —
/// makes it return nil, and `JSONDecoder` decides. A differential test over the fixtures and
/// a fuzz harness check this.
struct EventFastReader {
    /// Not handled here; the caller falls back to `JSONDecoder`.
    struct Bail: Error {}

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    static func read(_ json: ArraySlice<UInt8>) -> EmnifyEvent? {
        json.withUnsafeBufferPointer { buffer in
            var reader = EventFastReader(buffer)
            return try? reader.event(raw: json)
        }
    }

    private mutating func event(raw: ArraySlice<UInt8>) throws(Bail) -> EmnifyEvent {
        var id: Int64?, timestamp: String?, alert: Bool?, description: String?
        var type: EmnifyEvent.Reference?, source: EmnifyEvent.Reference?, severity: EmnifyEvent.Reference?
        var endpoint: (id: Int64?, text: String?)?, sim: (id: Int64?, text: String?)?, imsi: String?
        var detail: (name: String?, country: String?, iso: String?, rat: Int?)?
        skipWhitespace()
        try object { (reader, key) throws(Bail) in
            switch key {
            case "id": id = try reader.integerOrNull()
            case "timestamp": timestamp = try reader.stringOrNull()
            case "alert": alert = try reader.alert()
            case "description": description = try reader.stringOrNull()
            case "event_type": type = try reader.reference()
            case "event_source": source = try reader.reference()
            case "event_severity": severity = try reader.reference()
            case "endpoint": endpoint = try reader.idAndText("name")
            case "sim": sim = try reader.idAndText("iccid")
            case "imsi": imsi = try reader.imsi()
            case "detail": detail = try reader.detail()
            default: return false
            }
            return true
        }
        try expectEnd()
        // What the decoder turns into an error, it words: let it.
        guard let id, let timestamp, let parsed = EmnifyTimestamp(parsing: timestamp), let type else { throw Bail() }
        return EmnifyEvent(
            id: id, timestamp: parsed, alert: alert, description: description, type: type, source: source,
            severity: severity, endpointID: endpoint?.id, endpointName: endpoint?.text, simID: sim?.id,
            iccid: sim?.text, imsi: imsi, operatorName: detail?.name, countryName: detail?.country,
            countryISO: detail?.iso, ratType: detail?.rat, raw: Array(raw))
    }

    // MARK: The shapes of the fields

    /// `{id, description}` or `{id, name}`; nil without an id (as `LenientReference`).
    private mutating func reference() throws(Bail) -> EmnifyEvent.Reference? {
        let parts = try objectOrNull((id: nil, description: nil, name: nil)) {
            (reader, key, value: inout (id: Int64??, description: String?, name: String?)) throws(Bail) in
            switch key {
            case "id": value.id = .some(try reader.integerOrNull())
            case "description": value.description = try reader.stringOrNull()
            case "name": value.name = try reader.stringOrNull()
            default: return false
            }
            return true
        }
        guard let parts, case .some(.some(let id)) = parts.id else { return nil }
        return EmnifyEvent.Reference(id: Int(id), description: parts.description ?? parts.name)
    }

    /// `{id, <textKey>}`: `endpoint {id, name}`, `sim {id, iccid}` (as the decoder's `Named`, `SIMPart`).
    private mutating func idAndText(_ textKey: StaticString) throws(Bail) -> (id: Int64?, text: String?)? {
        try objectOrNull((id: nil, text: nil)) { (reader, key, value: inout (id: Int64?, text: String?)) throws(Bail) in
            switch key {
            case "id": value.id = try reader.integerOrNull()
            case textKey: value.text = try reader.stringOrNull()
            default: return false
            }
            return true
        }
    }

    /// `alert` as a bool, or as 0/1.
    private mutating func alert() throws(Bail) -> Bool? {
        skipWhitespace()
        switch peek() {
        case UInt8(ascii: "t"): try literal("true"); return true
        case UInt8(ascii: "f"): try literal("false"); return false
        case UInt8(ascii: "n"): try literal("null"); return nil
        default: return try integerOrNull().map { $0 != 0 }
        }
    }

    /// An object `{id, imsi, import_date}` or a bare string.
    private mutating func imsi() throws(Bail) -> String? {
        skipWhitespace()
        if peek() == UInt8(ascii: "\"") { return try stringOrNull() }
        let value = try objectOrNull(nil) { (reader, key, value: inout String?) throws(Bail) in
            guard "imsi" ~= key else { return false }
            value = try reader.stringOrNull()
            return true
        }
        return value ?? nil
    }

    private mutating func detail() throws(Bail) -> (name: String?, country: String?, iso: String?, rat: Int?)? {
        try objectOrNull((name: nil, country: nil, iso: nil, rat: nil)) {
            (reader, key, value: inout (name: String?, country: String?, iso: String?, rat: Int?)) throws(Bail) in
            switch key {
            case "name": value.name = try reader.stringOrNull()
            case "country":
                let country = try reader.objectOrNull((name: nil, iso: nil)) {
                    (reader, key, value: inout (name: String?, iso: String?)) throws(Bail) in
                    switch key {
                    case "name": value.name = try reader.stringOrNull()
                    case "iso_code": value.iso = try reader.stringOrNull()
                    default: return false
                    }
                    return true
                }
                (value.country, value.iso) = (country?.name, country?.iso)
            case "pdp_context":
                let rat = try reader.objectOrNull(nil) { (reader, key, value: inout Int64?) throws(Bail) in
                    guard "rat_type" ~= key else { return false }
                    value = try reader.integerOrNull()
                    return true
                }
                value.rat = (rat ?? nil).map { Int($0) }
            default: return false
            }
            return true
        }
    }

    // MARK: Objects

    /// Walks an object; `field` reads a known key's value and returns true, or returns false and
    /// the value is skipped (and checked). A known key twice bails: which one wins is the decoder's.
    private mutating func object(depth: Int = 0, _ field: (inout EventFastReader, Key) throws(Bail) -> Bool)
        throws(Bail)
    {
        try expect(UInt8(ascii: "{"))
        var seen: [Key] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { index += 1; return }
        while true {
            skipWhitespace()
            let key = Key(try stringRange(), in: bytes)
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            if try field(&self, key) {
                if seen.contains(key) { throw Bail() }
                seen.append(key)
            } else {
                try skipValue(depth: depth + 1)
            }
            skipWhitespace()
            switch next() {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "}"): return
            default: throw Bail()
            }
        }
    }

    /// An object read into a value that starts empty, or nil for `null`.
    private mutating func objectOrNull<Value>(
        _ empty: Value, _ field: (inout EventFastReader, Key, inout Value) throws(Bail) -> Bool
    ) throws(Bail) -> Value? {
        skipWhitespace()
        if peek() == UInt8(ascii: "n") {
            try literal("null")
            return nil
        }
        var value = empty
        try object { (reader, key) throws(Bail) in try field(&reader, key, &value) }
        return value
    }

    // MARK: Scalars

    private mutating func stringOrNull() throws(Bail) -> String? {
        skipWhitespace()
        if peek() == UInt8(ascii: "n") {
            try literal("null")
            return nil
        }
        let range = try stringRange()
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// An integer that fits 64 bits, or null; any other number bails.
    private mutating func integerOrNull() throws(Bail) -> Int64? {
        skipWhitespace()
        if peek() == UInt8(ascii: "n") {
            try literal("null")
            return nil
        }
        let start = index
        let negative = peek() == UInt8(ascii: "-")
        if negative { index += 1 }
        guard let first = peekDigit() else { throw Bail() }
        index += 1
        var value = Int64(first)
        if first != 0 {
            while let digit = peekDigit() {
                let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(Int64(digit))
                guard !overflow1, !overflow2 else { throw Bail() }
                value = sum
                index += 1
            }
        }
        // A fraction or exponent is not an integer to us (the decoder has its own view).
        guard index < bytes.count, Self.endsNumber(bytes[index]), index > start else { throw Bail() }
        return negative ? -value : value
    }

    /// The bytes between the quotes; only printable ASCII without escapes.
    private mutating func stringRange() throws(Bail) -> Range<Int> {
        try expect(UInt8(ascii: "\""))
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return start..<(index - 1)
            }
            guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\\") else { throw Bail() }
            index += 1
        }
        throw Bail()
    }

    /// Checks and skips any value (JSON's number grammar exactly; strings as `stringRange`).
    private mutating func skipValue(depth: Int) throws(Bail) {
        guard depth < JSONArraySplitter.maxDepth else { throw Bail() }
        skipWhitespace()
        switch peek() {
        case UInt8(ascii: "\""): _ = try stringRange()
        case UInt8(ascii: "{"):
            try object(depth: depth) { _, _ throws(Bail) in false }
        case UInt8(ascii: "["):
            index += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "]") { index += 1; return }
            while true {
                try skipValue(depth: depth + 1)
                skipWhitespace()
                switch next() {
                case UInt8(ascii: ","): continue
                case UInt8(ascii: "]"): return
                default: throw Bail()
                }
            }
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: try skipNumber()
        }
    }

    private mutating func skipNumber() throws(Bail) {
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let first = peekDigit() else { throw Bail() }
        index += 1
        if first != 0 { skipDigits() }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard peekDigit() != nil else { throw Bail() }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard peekDigit() != nil else { throw Bail() }
            skipDigits()
        }
        guard index < bytes.count, Self.endsNumber(bytes[index]) else { throw Bail() }
    }

    // MARK: Bytes

    private mutating func skipDigits() {
        while peekDigit() != nil { index += 1 }
    }

    private func peekDigit() -> UInt8? {
        guard index < bytes.count else { return nil }
        let byte = bytes[index]
        return byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? byte - UInt8(ascii: "0") : nil
    }

    /// A number inside an event is always followed by one of these (never the end of input).
    private static func endsNumber(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") || byte == 0x20
            || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private func peek() -> UInt8 { index < bytes.count ? bytes[index] : 0 }

    private mutating func next() -> UInt8 {
        defer { index += 1 }
        return peek()
    }

    private mutating func expect(_ byte: UInt8) throws(Bail) {
        guard peek() == byte else { throw Bail() }
        index += 1
    }

    private mutating func literal(_ word: StaticString) throws(Bail) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw Bail() }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { throw Bail() }
        index += count
    }

    private mutating func skipWhitespace() {
        while index < bytes.count,
            bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09
        {
            index += 1
        }
    }

    private mutating func expectEnd() throws(Bail) {
        skipWhitespace()
        guard index == bytes.count else { throw Bail() }
    }
}

/// An object key, matched byte for byte against a literal (keys here have no escapes).
struct Key: Equatable {
    private let bytes: UnsafeBufferPointer<UInt8>

    init(_ range: Range<Int>, in buffer: UnsafeBufferPointer<UInt8>) {
        bytes = UnsafeBufferPointer(rebasing: buffer[range])
    }

    static func == (lhs: Key, rhs: Key) -> Bool {
        lhs.bytes.count == rhs.bytes.count && lhs.bytes.elementsEqual(rhs.bytes)
    }

    static func ~= (pattern: StaticString, key: Key) -> Bool {
        key.bytes.count == pattern.utf8CodeUnitCount
            && key.bytes.elementsEqual(UnsafeBufferPointer(start: pattern.utf8Start, count: pattern.utf8CodeUnitCount))
    }
}
