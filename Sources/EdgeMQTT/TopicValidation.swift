/// Checks of whole topics before they reach libmosquitto, for clearer errors.
enum TopicValidation {
    static func problem(inPublishTopic topic: String) -> String? {
        if topic.isEmpty { return "topic is empty" }
        if topic.utf8.count > 65535 { return "topic is longer than 65535 bytes" }
        if topic.contains(where: { $0 == "+" || $0 == "#" }) { return "a topic to publish to cannot contain + or #" }
        if topic.unicodeScalars.contains(where: { $0.value == 0 }) { return "topic contains NUL" }
        return nil
    }
}
