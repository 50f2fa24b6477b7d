import EdgeCommon
@testable import EmnifyAPI
import FoundationEssentials

enum APIHarness {
    /// The splitter returns the exact bytes of each element or a typed error; whatever
    /// `JSONDecoder` reads as an array (within the depth limit) the splitter splits into as many
    /// elements; the elements joined again split into the same elements; an element that decodes
    /// as an event keeps its raw bytes and decodes the same after compaction; the fast event
    /// reader, where it answers, reads what the decoder reads.
    static func eventPage(_ bytes: [UInt8]) {
        let reference = JSONProbe.arrayCount(bytes)
        let elements: [ArraySlice<UInt8>]
        do {
            elements = try JSONArraySplitter.split(bytes)
        } catch {
            if case .tooDeep = error { return }
            require(reference == nil, "JSONDecoder reads an array of \(reference ?? 0), the splitter says \(error)")
            return
        }
        if let reference {
            require(
                reference == elements.count, "JSONDecoder reads \(reference) elements, the splitter \(elements.count)")
        }
        let rejoined = Array("[".utf8) + Array(elements.joined(separator: Array(",".utf8))) + Array("]".utf8)
        let again: [ArraySlice<UInt8>]
        do { again = try JSONArraySplitter.split(rejoined) } catch {
            fatalError("contract broken: the re-joined elements do not split (\(error))")
        }
        require(again.map(Array.init) == elements.map(Array.init), "the re-joined elements split differently")

        for element in elements {
            require(!element.isEmpty, "an empty element")
            // The fast reader answers only where the decoder reads the same event.
            if let fast = EventFastReader.read(element) {
                switch Result(catching: { () throws(APIDecodingError) in try EmnifyEvent(decoding: element) }) {
                case .success(let decoded):
                    require(fast == decoded, "the fast reader reads event \(fast.id) differently")
                case .failure(let error):
                    fatalError("contract broken: the fast reader took what the decoder refuses (\(error))")
                }
            }
            let event: EmnifyEvent
            do { event = try EmnifyEvent(json: element) } catch {
                _ = error.description
                continue
            }
            require(event.raw == Array(element), "the event's raw bytes differ from the element")
            let compact = JSONCompactor.compact(element)
            guard let twin = try? EmnifyEvent(json: compact) else {
                fatalError("contract broken: event \(event.id) no longer decodes after compaction")
            }
            require(
                twin.id == event.id && twin.timestamp == event.timestamp && twin.type == event.type
                    && twin.iccid == event.iccid && twin.description == event.description,
                "event \(event.id) decodes differently after compaction")
            checkTimestamp(event.timestamp)
        }
    }

    /// Header lines as libcurl delivers them (each with its line break) → the response's header
    /// table → paging numbers: names are lower case, counts are never negative, and a count
    /// that is a plain decimal number is read as that number.
    static func pagingHeaders(_ bytes: [UInt8]) {
        let sink = ResponseSink(limit: 0)
        var start = 0
        for index in bytes.indices where bytes[index] == 0x0A {
            bytes[start...index].withUnsafeBytes { sink.appendHeaderLine($0) }
            start = index + 1
        }
        if start < bytes.count { bytes[start...].withUnsafeBytes { sink.appendHeaderLine($0) } }
        for (name, value) in sink.headers {
            require(name == name.lowercased(), "header name '\(name)' is not lower case")
            // The request side refuses these in a header it sends (an ETag goes back as If-None-Match).
            require(
                !value.contains(where: \.isNewline) && !value.unicodeScalars.contains("\0"),
                "header value keeps a line break or a NUL")
        }
        let response = HTTPResponse(status: 200, headers: sink.headers)
        let paging = PagingHeaders(response: response)
        let pairs: [(String, Int?)] = [
            ("x-total-count", paging.totalCount), ("x-total-pages", paging.totalPages),
            ("x-current-page", paging.currentPage), ("x-count-per-page", paging.countPerPage),
        ]
        for (name, value) in pairs {
            if let value { require(value >= 0, "\(name) is negative") }
            if let text = sink.headers[name], !text.isEmpty, text.utf8.count <= 18,
                text.utf8.allSatisfy({ (48...57).contains($0) })
            {
                require(value == Int(text), "\(name) '\(text)' read as \(String(describing: value))")
            }
        }
        require(paging.sort == sink.headers["x-sort"], "x-sort changed")
        _ = response.bodySnippet
        timestamp(bytes)
    }

    /// A timestamp that parses keeps its text and writes back to the same instant.
    static func timestamp(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        if let parsed = EmnifyTimestamp(parsing: text) {
            require(parsed.text == text, "the timestamp's text changed")
            checkTimestamp(parsed)
        }
        // Any instant from year 0 to 9999 writes as a timestamp that reads back to it.
        if bytes.count >= 8 {
            let raw = bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let limit: UInt64 = 253_402_300_800_000 + 62_167_219_200_000  // 0000-01-01 … 10000-01-01
            let millis = Int64(raw % limit) - 62_167_219_200_000
            let written = EmnifyTimestamp(millisecondsSinceEpoch: millis)
            require(
                EmnifyTimestamp(parsing: written.text)?.millisecondsSinceEpoch == millis,
                "\(millis) ms writes as '\(written.text)', which does not read back")
        }
    }

    static func checkTimestamp(_ timestamp: EmnifyTimestamp) {
        let millis = timestamp.millisecondsSinceEpoch
        let utc = timestamp.utc
        require((1...12).contains(utc.month) && (1...31).contains(utc.day), "calendar date out of range")
        for zone in ["Z", "+0000"] {
            let text = TimestampText.format(milliseconds: millis, zone: zone)
            guard (0...9999).contains(utc.year) else { continue }
            require(
                TimestampText.milliseconds(text) == millis, "'\(timestamp.text)' writes as '\(text)', which differs")
        }
    }
}

/// `JSONDecoder`'s reading of a document as an array of arbitrary JSON values: the reference
/// the splitter is compared with.
enum JSONProbe {
    static func arrayCount(_ bytes: [UInt8]) -> Int? {
        // JSONDecoder accepts a trailing comma (`[[],]`, `{"a":1,}`), RFC 8259 and the splitter do not.
        guard !hasTrailingComma(bytes) else { return nil }
        // It also reads `[\0]\0[` as an empty array (swift-foundation 6.3, found by this fuzzer): NUL
        // is no JSON whitespace, and the splitter refuses it, so the decoder is no reference here.
        guard !bytes.contains(0) else { return nil }
        return (try? JSONDecoder().decode([AnyJSON].self, from: Data(bytes)))?.count
    }

    /// A `,` followed by blanks and `]` or `}`, outside strings.
    static func hasTrailingComma(_ bytes: [UInt8]) -> Bool {
        var inString = false, escaped = false, afterComma = false
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D: continue
            case UInt8(ascii: "]"), UInt8(ascii: "}"): if afterComma { return true }
            case UInt8(ascii: "\""): inString = true
            default: break
            }
            afterComma = byte == UInt8(ascii: ",")
        }
        return false
    }

    private struct AnyJSON: Decodable {
        init(from decoder: any Decoder) throws {
            if var array = try? decoder.unkeyedContainer() {
                while !array.isAtEnd { _ = try array.decode(AnyJSON.self) }
                return
            }
            if let object = try? decoder.container(keyedBy: AnyKey.self) {
                for key in object.allKeys { _ = try object.decode(AnyJSON.self, forKey: key) }
                return
            }
            let value = try decoder.singleValueContainer()
            if value.decodeNil() { return }
            if (try? value.decode(Bool.self)) != nil { return }
            if (try? value.decode(String.self)) != nil { return }
            _ = try value.decode(Double.self)
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
