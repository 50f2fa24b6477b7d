/// emnify's event types by id, with the stable slug used in MQTT topics.
///
/// The slug of a known type never changes, even if emnify rewords its description; an
/// unknown type gets a slug derived from its description, or `type-<id>` without one.
public enum EventTypeCatalog {
    public static let names: [Int: String] = [
        0: "Generic", 1: "Update location", 2: "Update GPRS location", 3: "Create PDP Context",
        4: "Update PDP Context", 5: "Delete PDP Context", 6: "User authentication failed",
        7: "Application authentication failed", 8: "SIM activation", 9: "SIM suspension", 10: "SIM deletion",
        11: "Endpoint blocked", 12: "Organisation blocked", 13: "Support Access", 14: "Multi-factor Authentication",
        15: "Purge Location", 16: "Purge GPRS location", 17: "Self-Signup", 18: "Threshold reached",
        19: "Quota used up", 20: "SMS Quota Threshold reached", 21: "SMS Quota used up",
        22: "CloudConnect TGW resource share created", 23: "CloudConnect TGW available",
        24: "CloudConnect TGW deleted", 25: "CloudConnect TGW breakout terminated", 30: "OpenVPN authentication",
        31: "Organisation updated", 32: "Billing configuration updated", 41: "User verified",
        42: "Endpoint enabled", 43: "Endpoint disabled", 45: "SIM factory test", 46: "User deleted",
        48: "SIM registration", 50: "SIM released", 51: "SIM assigned", 52: "Data quota enabled",
        53: "Data quota disabled", 54: "SMS quota enabled", 55: "SMS quota disabled", 56: "Data quota assigned",
        57: "Data quota deleted", 58: "SMS quota assigned", 59: "SMS quota deleted", 60: "Data quota expired",
        67: "User switched workspaces",
    ]

    /// Slugs fixed by hand where the description would give an awkward one.
    private static let fixedSlugs: [Int: String] = [
        18: "quota-threshold-reached",
        20: "sms-quota-threshold-reached",
    ]

    public static func slug(typeID: Int, description: String?) -> String {
        if let fixed = fixedSlugs[typeID] { return fixed }
        if let known = names[typeID] { return slugify(known) }
        if let description, !slugify(description).isEmpty { return slugify(description) }
        return "type-\(typeID)"
    }

    /// Lower-case ASCII letters and digits joined by single hyphens: safe as one MQTT topic
    /// level (no `+`, `#`, `/` or NUL can survive).
    public static func slugify(_ text: String) -> String {
        var result = ""
        var pendingHyphen = false
        for scalar in text.unicodeScalars {
            let isAlphanumeric =
                (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || (scalar >= "0" && scalar <= "9")
            if isAlphanumeric {
                if pendingHyphen && !result.isEmpty { result.append("-") }
                pendingHyphen = false
                result.unicodeScalars.append(scalar.properties.lowercaseMapping.unicodeScalars.first ?? scalar)
            } else {
                pendingHyphen = true
            }
        }
        return String(result.prefix(64))
    }

    /// The network generation a 3GPP RAT type stands for (`detail.pdp_context.rat_type`).
    public static func networkGeneration(ratType: Int) -> String? {
        switch ratType {
        case 1: return "3G"
        case 2: return "2G"
        case 6: return "4G"
        case 8: return "NB-IoT"
        case 9: return "LTE-M"
        case 10: return "5G"
        default: return nil
        }
    }
}

extension EmnifyEvent {
    public var typeSlug: String { EventTypeCatalog.slug(typeID: type.id, description: type.description) }

    /// The type as the Portal shows it, with the network generation for PDP context events.
    public var typeDisplayName: String {
        let name = type.description ?? EventTypeCatalog.names[type.id] ?? "Type \(type.id)"
        if let ratType, let generation = EventTypeCatalog.networkGeneration(ratType: ratType) {
            return "\(name) (\(generation))"
        }
        return name
    }
}
