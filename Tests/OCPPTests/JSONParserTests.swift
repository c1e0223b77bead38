import OCPP
import Testing

@Suite("JSON parser")
struct JSONParserTests {
    @Test("parses every JSON value kind, keeping integers exact")
    func kinds() throws {
        let value = try JSONParser.parse(#" {"a": [1, -2, 2.5, 1e2, true, false, null, "x\"\u00e9\ud83d\ude00"], "b": {}} "#)
        let expected = JSONValue.object(JSONObject([
            ("a", .array([.int(1), .int(-2), .double(2.5), .double(100), .bool(true), .bool(false), .null, .string("x\"é😀")])),
            ("b", .object(JSONObject())),
        ]))
        #expect(value == expected)
        #expect(try JSONParser.parse("9223372036854775808") == .double(9_223_372_036_854_775_808))
    }

    @Test("unescaped strings: ASCII and UTF-8 are kept as they are, bytes that are not UTF-8 are refused")
    func unescapedStrings() throws {
        #expect(try JSONParser.parse(Array(#"["Energy.Active.Import.Register","Grüße ⚡️"]"#.utf8))
            == .array([.string("Energy.Active.Import.Register"), .string("Grüße ⚡️")]))
        // A lone continuation byte, a truncated sequence, an overlong encoding: none is UTF-8.
        for bad: [UInt8] in [[0x80], [0xC3], [0xC0, 0xAF]] {
            #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0x61] + bad + [0x22]) }
        }
    }

    @Test("refuses what is not strict JSON", arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "-", "1e", "tru", "\"\\x\"", "\"\u{01}\"", "\"\\ud800\"", "[1] 2", "nul",
        "{'a': 1}", "1e999",
    ])
    func refusals(text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test("nesting deeper than the bound is refused without exhausting the stack")
    func depth() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        let fine = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        _ = try JSONParser.parse(fine)
    }

    @Test("the writer's output parses back to the same value")
    func writeAndRead() throws {
        let value = JSONValue.object(JSONObject([
            ("text", .string("a/b \"q\" \\ \n\t\u{01} é")), ("n", .int(-7)), ("d", .double(7.4)), ("list", .array([.null, .bool(true)])),
        ]))
        let text = JSONWriter.string(value)
        #expect(text == #"{"text":"a/b \"q\" \\ \n\t\u0001 é","n":-7,"d":7.4,"list":[null,true]}"#)
        #expect(try JSONParser.parse(text) == value)
    }
}
