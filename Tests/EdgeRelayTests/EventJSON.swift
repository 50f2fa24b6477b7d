import EmnifyAPI

/// Event JSON in emnify's documented shape (the fixtures' fields), for unit tests.
enum EventJSON {
    static func sim(id: Int64, iccid: String = "8988303000012345678", type: Int = 3, at timestamp: String) -> String {
        """
        {"id":\(id),"timestamp":"\(timestamp)","alert":false,"description":"PDP Context created",\
        "event_type":{"id":\(type),"description":"Create PDP Context"},"event_source":{"id":0,"description":"Network"},\
        "event_severity":{"id":0,"description":"INFO"},"organisation":{"id":5833,"name":"Test Org"},\
        "endpoint":{"id":11,"name":"gw-1"},"sim":{"id":21,"iccid":"\(iccid)"},"imsi":{"id":31,"imsi":"901430000000001"}}
        """
    }

    static func user(id: Int64, at timestamp: String) -> String {
        """
        {"timestamp":"\(timestamp)","alert":false,"description":"Failed authentication request","id":\(id),\
        "event_type":{"id":6,"description":"User authentication failed"},"event_source":{"id":2,"description":"API"},\
        "event_severity":{"id":1,"description":"Warn"},"organisation":{"id":5833,"name":"Test Org"},\
        "user":{"id":3492824,"name":"John Doe","username":"example@yourorg.com"}}
        """
    }

    static func event(_ text: String) -> EmnifyEvent {
        try! EmnifyEvent(json: Array(text.utf8))
    }
}
