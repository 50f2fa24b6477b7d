import EdgeConfig
import Testing

@Suite struct TOMLKeyLocatorTests {
    @Test func tablesAndKeys() {
        let text = """
            # a comment with key = value and [section]
            top = 1

            [api]
            url = "https://x" # trailing = comment
            timeout = "5s"
              [ modem ]   # indented header
            source="static"
            """
        let locator = TOMLKeyLocator(text)
        #expect(locator.line(of: "top") == 2)
        #expect(locator.line(of: "api") == 4)
        #expect(locator.line(of: "api.url") == 5)
        #expect(locator.line(of: "api.timeout") == 6)
        #expect(locator.line(of: "modem") == 7)
        #expect(locator.line(of: "modem.source") == 8)
        #expect(locator.line(of: "section") == nil)
    }

    @Test func stringsWithEqualsAndHashDoNotConfuse() {
        let text = """
            [api]
            url = "https://x/#a = b"
            token_file = 'C:\\x = # y'
            note = \"\"\"
            fake = 1
            [fake]
            \"\"\"
            lit = '''
            other = 2
            '''
            timeout = "1s"
            escaped = "quote \\" # still = string"
            ca_file = "/x"
            """
        let locator = TOMLKeyLocator(text)
        #expect(locator.line(of: "api.url") == 2)
        #expect(locator.line(of: "api.token_file") == 3)
        #expect(locator.line(of: "api.note") == 4)
        #expect(locator.line(of: "api.fake") == nil)
        #expect(locator.line(of: "fake") == nil)
        #expect(locator.line(of: "api.other") == nil)
        #expect(locator.line(of: "api.lit") == 8)
        #expect(locator.line(of: "api.timeout") == 11)
        #expect(locator.line(of: "api.escaped") == 12)
        #expect(locator.line(of: "api.ca_file") == 13)
    }

    @Test func dottedAndQuotedKeys() {
        let text = """
            api.url = "https://x"
            "mqtt" . 'host' = "h"
            [agent]
            sub.key = 1
            """
        let locator = TOMLKeyLocator(text)
        #expect(locator.line(of: "api") == 1)
        #expect(locator.line(of: "api.url") == 1)
        #expect(locator.line(of: "mqtt.host") == 2)
        #expect(locator.line(of: "agent.sub") == 4)
        #expect(locator.line(of: "agent.sub.key") == 4)
    }

    @Test func inlineTablesAndArrays() {
        let text = """
            api = { url = "https://x,}", timeout = "5s" }
            [mqtt]
            list = [
              "a = b", # comment = x
              { inner = 1 },
              [1, 2],
            ]
            port = 1884
            nested = { a = { b = 1 } }
            """
        let locator = TOMLKeyLocator(text)
        #expect(locator.line(of: "api") == 1)
        #expect(locator.line(of: "api.url") == 1)
        #expect(locator.line(of: "api.timeout") == 1)
        #expect(locator.line(of: "mqtt.list") == 3)
        #expect(locator.line(of: "mqtt.inner") == nil)
        #expect(locator.line(of: "mqtt.port") == 8)
        #expect(locator.line(of: "mqtt.nested.a.b") == 9)
    }

    @Test func arrayOfTablesAndFirstOccurrence() {
        let text = """
            [[boards]]
            name = "a"
            [[boards]]
            name = "b"
            [log]
            level = "info"
            level = "debug"
            """
        let locator = TOMLKeyLocator(text)
        #expect(locator.line(of: "boards") == 1)
        #expect(locator.line(of: "boards.name") == 2)
        #expect(locator.line(of: "log.level") == 6)
    }

    @Test func garbageDoesNotCrash() {
        for text in ["[", "= 1", "a = \"unterminated", "a = '''never", "x = {", "[a.]", "\"k", "a = [1, {b = "] {
            _ = TOMLKeyLocator(text).paths
        }
    }
}
