/// `Key: 'value'` / `Key: value` pairs in qmicli and mbimcli output. Their text is for humans:
/// alignment changed between releases and journald flattens several on one line, so keys are
/// found anywhere in the text and values end at the closing quote (or the line end when unquoted).
enum QuotedFields {
    /// Every value of `key` in order.
    static func values(of key: String, in text: String) -> [String] {
        var result: [String] = []
        var rest = Substring(text)
        let needle = key + ":"
        while let range = rest.firstRange(of: needle) {
            // The key must start a word: not `XIMEI:` for `IMEI:`.
            let before = range.lowerBound == rest.startIndex ? nil : rest[rest.index(before: range.lowerBound)]
            var after = rest[range.upperBound...]
            rest = after
            if let before, before.isLetter || before.isNumber { continue }
            while let first = after.first, first == " " || first == "\t" { after = after.dropFirst() }
            if after.first == "'" {
                let body = after.dropFirst()
                guard let close = body.firstIndex(of: "'") else { continue }
                result.append(String(body[..<close]))
            } else {
                let value = after.prefix { !$0.isNewline }.trimmingBlanks()
                result.append(String(value))
            }
        }
        return result
    }

    static func first(_ key: String, in text: String) -> String? {
        values(of: key, in: text).first
    }
}
