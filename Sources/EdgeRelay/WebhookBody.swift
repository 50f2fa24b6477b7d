import EmnifyAPI

/// A Data Streamer request body: one record (a JSON object) or, in bulk mode, a JSON array of
/// up to 10,000. Each element is read on its own, so one bad element never costs the others.
public enum WebhookBody {
    public enum Element: Sendable {
        case event(EmnifyEvent)
        /// A usage record (the streamer's other stream type): recognised and not published (the
        /// relay carries connectivity events; usage belongs in billing, not on gateways).
        case usage
        /// Not an event we can publish: goes to the dead-letter file with the reason.
        case rejected(reason: String, raw: [UInt8])
    }

    /// Why a whole body is refused (HTTP 400).
    public struct Refusal: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    public static func elements(of body: [UInt8]) throws(Refusal) -> [Element] {
        guard !body.isEmpty else { throw Refusal(description: "the body is empty; send a JSON object or array") }
        // Invalid UTF-8 anywhere makes the body not JSON (RFC 8259 §8.1); refuse it whole rather than
        // guess which element it belongs to.
        guard String(validating: body, as: UTF8.self) != nil else {
            throw Refusal(description: "the body is not valid UTF-8, so it is not JSON")
        }
        guard let first = body.first(where: { !Self.isWhitespace($0) }) else {
            throw Refusal(description: "the body is only whitespace; send a JSON object or array")
        }
        let slices: [(bytes: ArraySlice<UInt8>, tooDeep: Bool)]
        switch first {
        case UInt8(ascii: "["):
            do {
                slices = try JSONArraySplitter.elements(body).map { ($0.bytes, $0.isTooDeep) }
            } catch {
                throw Refusal(description: "the body is not a JSON array: \(error)")
            }
        case UInt8(ascii: "{"):
            // One record per request (`size` 1): the same splitter checks it is one whole value.
            let wrapped = [UInt8(ascii: "[")] + body + [UInt8(ascii: "]")]
            do {
                let parts = try JSONArraySplitter.elements(wrapped)
                guard parts.count == 1 else { throw Refusal(description: "the body holds more than one JSON value") }
                slices = [(parts[0].bytes, parts[0].isTooDeep)]
            } catch let refusal as Refusal {
                throw refusal
            } catch {
                throw Refusal(description: "the body is not a JSON object: \(error)")
            }
        default:
            throw Refusal(description: "the body is neither a JSON object nor an array of them")
        }
        return slices.map { element($0.bytes, tooDeep: $0.tooDeep) }
    }

    static func element(_ bytes: ArraySlice<UInt8>, tooDeep: Bool) -> Element {
        let raw = Array(bytes)
        if tooDeep {
            return .rejected(reason: APIDecodingError.tooDeep(limit: JSONArraySplitter.maxDepth).description, raw: raw)
        }
        guard raw.first == UInt8(ascii: "{") else {
            return .rejected(reason: "the element is not a JSON object", raw: raw)
        }
        do {
            return .event(try EmnifyEvent(json: raw))
        } catch {
            if UsageRecordShape.matches(raw) { return .usage }
            let reason: String
            if case .invalidEvent(_, let text) = error { reason = text } else { reason = error.description }
            return .rejected(reason: reason, raw: raw)
        }
    }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}

/// A usage record has no `event_type` but volume fields (emnify's usage stream: `volume`, `cost`,
/// `traffic_type`, `start_timestamp`). Checked on the raw bytes: only after the event reader refused it.
enum UsageRecordShape {
    static func matches(_ raw: [UInt8]) -> Bool {
        guard let text = String(validating: raw, as: UTF8.self) else { return false }
        if text.contains("\"event_type\"") { return false }
        return text.contains("\"volume\"") || text.contains("\"traffic_type\"")
    }
}
