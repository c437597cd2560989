using System.Globalization;
using static Fathom.Testing.Hostile.HostileExpectation;

namespace Fathom.Testing.Hostile;

/// <summary>
/// The hostile-traffic generator (issue #18): hundreds of request bodies for <c>/v1/chat/completions</c> and
/// <c>/v1/completions</c>, the same for a given seed. Every sampling field at and just beyond its range, extreme and
/// non-finite numbers (as JSON numbers and as strings), wrong types, huge strings and arrays, deep nesting, invalid
/// UTF-8, the tiny-<c>repetition_penalty</c> crash, bad messages/tools/tool_choice/response_format, an unknown model,
/// then random mutations of valid bodies. Valid bodies generate at most a few tokens, so a run stays short.
/// </summary>
public static class HostileBodies
{
    private const string Chat = HostileBody.ChatPath;
    private const string Text = HostileBody.CompletionsPath;

    // Values a mutation puts in a random field: extreme numbers, non-finite spellings, every JSON type.
    private static readonly string[] Pool =
    [
        "1e308", "-1e308", "1e-320", "1e999", "-0.0", "0", "1", "-1", "4096.0", "0.5", "2147483648", "9223372036854775808",
        "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "\"1\"", "\"\"", "true", "false", "null", "[]", "{}", "[1,2]",
        "{\"a\":1}", "\"x\"", "[\"\"]", "{\"5\":1e308}",
    ];

    private static readonly string[] SharedFields =
    [
        "model", "temperature", "top_p", "top_k", "min_p", "presence_penalty", "frequency_penalty", "repetition_penalty",
        "logit_bias", "n", "max_tokens", "seed", "stop", "stop_token_ids", "stream", "stream_options", "ignore_eos", "user",
    ];

    private static readonly string[] ChatFields =
        [.. SharedFields, "messages", "logprobs", "top_logprobs", "max_completion_tokens", "tools", "tool_choice", "response_format", "parallel_tool_calls"];

    private static readonly string[] TextFields = [.. SharedFields, "prompt", "logprobs", "echo", "suffix", "best_of"];

    /// <summary>
    /// The suite's bodies for a server that serves <paramref name="model"/>: the structured cases, then
    /// <paramref name="mutations"/> random ones from <paramref name="seed"/>. <paramref name="huge"/> adds the 1–5 MB
    /// strings and 100k-element arrays.
    /// </summary>
    public static IReadOnlyList<HostileBody> Generate(string model, int seed = 18, int mutations = 200, bool huge = true)
    {
        var bodies = new List<HostileBody>();
        foreach (string path in (string[])[Chat, Text])
        {
            HostileJson Base() => path == Chat ? HostileJson.Chat(model) : HostileJson.Completion(model);
            void Add(string name, HostileExpectation expect, string? param, Func<HostileJson, HostileJson> edit) =>
                bodies.Add(new HostileBody(name, path, edit(Base()).ToBytes(), expect, param));
            void Field(string field, string raw, HostileExpectation expect, Func<HostileJson, HostileJson>? more = null) =>
                Add($"{field}={Shorten(raw)}", expect, expect == Rejected ? field : null, b => (more ?? (x => x))(b.Set(field, raw)));

            SamplingRanges(Add, Field, path == Chat);
            WrongTypes(Field, path == Chat ? ChatFields : TextFields, path == Chat);
            if (path == Chat)
            {
                ChatShapes(Add, Field);
            }
            else
            {
                CompletionShapes(Field);
            }

            Structure(bodies, path, Base);
            if (huge)
            {
                Huge(Add, Field, path == Chat);
            }

            // The reported crash: a tiny repetition penalty turns logits infinite; top_k / min_p must still return a token.
            foreach (string penalty in (string[])["1e-30", "1e-38", "1e-45"])
            {
                Add($"repetition_penalty={penalty} with top_k and min_p", Accepted, null, b => b
                    .Set("repetition_penalty", penalty).Set("top_k", "5").Set("min_p", "0.1").Set("temperature", "1").Set("seed", "7")
                    .Set(path == Chat ? "messages" : "prompt", path == Chat
                        ? """[{"role":"user","content":"the the the the the the the the"}]"""
                        : "\"the the the the the the the the\"").Set("max_tokens", "8"));
            }
        }

        Mutations(bodies, model, new Random(seed), mutations);
        return bodies;
    }

    private static void SamplingRanges(
        Action<string, HostileExpectation, string?, Func<HostileJson, HostileJson>> add,
        Action<string, string, HostileExpectation, Func<HostileJson, HostileJson>?> field,
        bool chat)
    {
        (string Field, string[] Accepted, string[] Rejected, string[] Either)[] table =
        [
            ("temperature", ["0", "0.0", "1e-6", "2", "100"], ["-0.01", "-1e308", "\"NaN\"", "\"Infinity\"", "\"-Infinity\""], ["1e308", "1e-320", "1e39"]),
            ("top_p", ["1", "1e-9", "0.5"], ["0", "-0.1", "1.0001", "1e308", "-1e308", "\"NaN\""], ["1e-320"]),
            ("top_k", ["-1", "0", "1", "4096.0", "2147483647"], ["-2", "1.5", "1e308", "2147483648", "\"NaN\""], []),
            ("min_p", ["0", "1", "0.5"], ["-0.0001", "1.0001", "1e308", "\"NaN\""], ["1e-320"]),
            ("presence_penalty", ["-2", "2", "0"], ["-2.0001", "2.0001", "1e308", "-1e308", "\"Infinity\""], []),
            ("frequency_penalty", ["-2", "2", "0"], ["-2.0001", "2.0001", "1e308", "-1e308", "\"-Infinity\""], []),
            ("repetition_penalty", ["1", "0.0001", "1e30"], ["0", "-1", "\"NaN\"", "\"Infinity\""], ["1e308", "1e-320"]),
            ("n", ["1", "2", "1.0"], ["0", "-1", "129", "1e308", "1.5"], ["128"]),
            ("max_tokens", ["1", "4.0"], ["0", "-1", "1e308", "2147483648", "4.5"], ["1000000"]),
            ("seed", ["0", "-1", "9223372036854775807", "4096.0"], ["1.5", "1e308", "9223372036854775808"], []),
            ("logit_bias", ["{\"5\":100}", "{\"5\":-100}", "{}"], ["{\"5\":100.01}", "{\"-1\":1}", "{\"99999\":1}", "{\"abc\":1}", "{\"5\":\"NaN\"}", "{\"5\":1e308}", "{\"5\":null}"], []),
            ("stop", ["\"x\"", "[\"a\",\"b\",\"c\",\"d\"]"], ["[\"a\",\"b\",\"c\",\"d\",\"e\"]", "\"\"", "[\"\"]", "[5]"], []),
            ("stop_token_ids", ["[5]", "[]"], ["[-1]", "[99999]", "[\"x\"]"], []),
        ];
        foreach (var (name, accepted, rejected, either) in table)
        {
            Array.ForEach(accepted, raw => field(name, raw, Accepted, null));
            Array.ForEach(rejected, raw => field(name, raw, Rejected, null));
            Array.ForEach(either, raw => field(name, raw, Either, null));
        }

        if (chat)
        {
            field("logprobs", "true", Accepted, null);
            field("top_logprobs", "20", Accepted, b => b.Set("logprobs", "true"));
            field("top_logprobs", "0", Accepted, b => b.Set("logprobs", "true"));
            field("top_logprobs", "21", Rejected, b => b.Set("logprobs", "true"));
            field("top_logprobs", "-1", Rejected, b => b.Set("logprobs", "true"));
            field("top_logprobs", "5", Rejected, null); // without logprobs
            add("max_completion_tokens=0", Rejected, null, b => b.Set("max_completion_tokens", "0")); // may be reported as max_tokens
        }
        else
        {
            Array.ForEach(["0", "5", "20"], raw => field("logprobs", raw, Accepted, null));
            Array.ForEach(["21", "-1", "1e308", "\"5\""], raw => field("logprobs", raw, Rejected, null));
            field("echo", "true", Rejected, null);
            field("suffix", "\"x\"", Rejected, null);
            field("best_of", "2", Rejected, null);
        }

        field("stream", "true", Accepted, null);
        field("stream_options", "{\"include_usage\":true}", Accepted, b => b.Set("stream", "true"));
        field("n", "3", Accepted, b => b.Set("stream", "true").Set("temperature", "1e-6"));
    }

    private static void WrongTypes(Action<string, string, HostileExpectation, Func<HostileJson, HostileJson>?> field, string[] fields, bool chat)
    {
        // The types each field does not take; a string where a number goes is an error even when it spells one.
        foreach (string name in fields)
        {
            string[] wrong = name switch
            {
                "model" or "user" or "suffix" => ["5", "true", "[]", "{}"],
                "stream" or "ignore_eos" or "echo" or "parallel_tool_calls" => ["\"true\"", "1", "[]", "{}"],
                "logprobs" when chat => ["\"true\"", "1", "[]", "{}"],
                "stop" => ["5", "true", "{}", "[[\"a\"]]"],
                "messages" or "prompt" or "tools" or "stop_token_ids" => ["5", "true", "{}"],
                "logit_bias" or "stream_options" or "response_format" => ["5", "\"x\"", "[]", "true"],
                "tool_choice" => ["5", "[]", "true"],
                _ => ["\"1\"", "true", "[]", "{}", "\"x\""],
            };
            foreach (string raw in wrong)
            {
                // The server may ignore fields it does not implement (user, response_format, parallel_tool_calls).
                var expect = name is "user" or "response_format" or "parallel_tool_calls" ? Either : Rejected;
                field(name, raw, expect, null);
            }

            // A null max_tokens is valid and means "until the context is full": long, not hostile.
            if (name is not ("max_tokens" or "max_completion_tokens"))
            {
                field(name, "null", Either, null);
            }
        }
    }

    private static void ChatShapes(
        Action<string, HostileExpectation, string?, Func<HostileJson, HostileJson>> add,
        Action<string, string, HostileExpectation, Func<HostileJson, HostileJson>?> field)
    {
        foreach (string raw in (string[])[
            "[]", "[5]", "[{}]", """[{"role":"wizard","content":"hi"}]""", """[{"content":"hi"}]""", """[{"role":"user","content":5}]""",
            """[{"role":"user","content":[{"type":"text","text":5}]}]""", """[{"role":5,"content":"hi"}]""",
            """[{"role":"tool","content":"hi","tool_call_id":5}]"""])
        {
            // The error may name the list or the entry's own field (role, text): either points the client at it.
            add($"messages={raw}", Rejected, null, b => b.Set("messages", raw));
        }

        foreach (string raw in (string[])[
            """[{"role":"user"}]""", """[{"role":"user","content":null}]""", """[{"role":"user","content":[{"type":"banana"}]}]""",
            """[{"role":"user","content":[{"type":"image_url","image_url":{"url":"http://127.0.0.1:1/x.png"}}]}]""",
            """[{"role":"assistant","content":"hi"}]""", """[{"role":"system","content":"hi"},{"role":"system","content":"hi"}]""",
            """[{"role":"user","content":"\u0000\ud800"}]"""])
        {
            field("messages", raw, Either, null);
        }

        foreach (string raw in (string[])["[5]", "[{}]", """[{"type":"function"}]""", """[{"type":"function","function":{"name":5}}]""", """[{"type":"banana","function":{"name":"f"}}]"""])
        {
            add($"tools={raw}", Rejected, null, b => b.Set("tools", raw));
        }

        const string Tool = """[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]""";
        field("tools", Tool, Either, null);
        field("tools", """[{"type":"function","function":{"name":"f","parameters":""" + HostileJson.NestedObjects(150) + "}}]", Either, null);
        field("tool_choice", "\"banana\"", Rejected, b => b.Set("tools", Tool));
        field("tool_choice", """{"type":"function","function":{"name":"nope"}}""", Either, b => b.Set("tools", Tool));
        field("tool_choice", "\"required\"", Either, null);
        foreach (string raw in (string[])["{\"type\":\"banana\"}", "{\"type\":\"json_schema\"}", "{\"type\":\"json_object\"}", "\"json\""])
        {
            field("response_format", raw, Either, null);
        }

        add("unknown model", Rejected, null, b => b.Set("model", "\"no-such-model\""));
        add("no messages", Rejected, "messages", b => b.Remove("messages"));
    }

    private static void CompletionShapes(Action<string, string, HostileExpectation, Func<HostileJson, HostileJson>?> field)
    {
        foreach (string raw in (string[])["[]", "[1,-3]", "[99999]", "[1.5]", "[\"a\",5]", "{\"a\":1}"])
        {
            field("prompt", raw, Rejected, null);
        }

        foreach (string raw in (string[])["[[1,2],[3]]", "[\"a\"]", "[\"a\",\"b\"]", "\"\"", "[1,2,3]", "\"\\u0000\\ud800\""])
        {
            field("prompt", raw, Either, null);
        }

        field("model", "\"no-such-model\"", Either, null); // the text endpoint may serve its one model under any name
    }

    private static void Structure(List<HostileBody> bodies, string path, Func<HostileJson> baseBody)
    {
        string valid = baseBody().ToString();
        string field = path == Chat ? "messages" : "prompt";
        void Raw(string name, byte[] content, HostileExpectation expect) => bodies.Add(new HostileBody(name, path, content, expect));
        void Text(string name, string content, HostileExpectation expect) => Raw(name, System.Text.Encoding.UTF8.GetBytes(content), expect);

        Text("empty body", "", Rejected);
        Text("truncated", valid[..(valid.Length / 2)], Rejected);
        Text("trailing garbage", valid + " xyz", Rejected);
        Text("top-level array", "[1,2]", Rejected);
        Text("top-level null", "null", Rejected);
        Text("top-level number", "1e308", Rejected);
        Text("top-level string", "\"x\"", Rejected);
        Text("empty object", "{}", Rejected);
        Text("not JSON", "model=stories260K&prompt=hi", Rejected);
        Text("single quotes", valid.Replace('"', '\''), Rejected);
        Text("comments", "/* x */" + valid, Rejected);
        Text("nested arrays 10k deep", valid[..^1] + ",\"metadata\":" + HostileJson.NestedArrays(10_000) + "}", Rejected);
        Text("nested objects 10k deep", valid[..^1] + ",\"metadata\":" + HostileJson.NestedObjects(10_000) + "}", Rejected);
        Text("nested arrays 10k deep in " + field, valid.Replace($"\"{field}\":", $"\"{field}\":" + new string('[', 10_000), StringComparison.Ordinal) + new string(']', 10_000), Rejected);
        Text("duplicate keys", valid[..^1] + ",\"max_tokens\":2}", Either);
        Text("BOM", "\uFEFF" + valid, Either);

        // Invalid UTF-8 inside a string, a key, and outside strings; an overlong '/' and a lone surrogate's bytes.
        string content = path == Chat ? "\"messages\":[{\"role\":\"user\",\"content\":\"" : "\"prompt\":\"";
        string close = path == Chat ? "\"}],\"max_tokens\":4}" : "\",\"max_tokens\":4}";
        byte[][] invalid = [[0xC3, 0x28], [0xFF, 0xFE], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xE2, 0x82]];
        foreach (byte[] bytes in invalid)
        {
            Raw($"invalid UTF-8 {Convert.ToHexString(bytes)} in {field}", HostileJson.Splice("{" + content, bytes, close), Rejected);
        }

        Raw("invalid UTF-8 in a key", HostileJson.Splice("{\"x", [0xC3, 0x28], "\":1," + valid[1..]), Rejected);
        Raw("invalid UTF-8 outside strings", HostileJson.Splice(valid[..^1] + ",", [0xFF], "}"), Rejected);
    }

    private static void Huge(
        Action<string, HostileExpectation, string?, Func<HostileJson, HostileJson>> add,
        Action<string, string, HostileExpectation, Func<HostileJson, HostileJson>?> field,
        bool chat)
    {
        const int Mb = 1024 * 1024;
        if (chat)
        {
            add("1 MB message", Rejected, null, b => b.Set("messages", $"[{{\"role\":\"user\",\"content\":{HostileJson.HugeString(Mb)}}}]"));
            add("100k messages", Rejected, "messages", b => b.Set("messages", HostileJson.Array("""{"role":"user","content":"a"}""", 100_000)));
            add("100k tools", Rejected, "tools", b => b.Set("tools", HostileJson.Array("""{"type":"function","function":{"name":"f"}}""", 100_000)));
            add("1 MB tool description", Either, null, b => b.Set("tools", $"[{{\"type\":\"function\",\"function\":{{\"name\":\"f\",\"description\":{HostileJson.HugeString(Mb)}}}}}]"));
        }
        else
        {
            add("1 MB prompt", Rejected, null, b => b.Set("prompt", HostileJson.HugeString(Mb)));
            add("100k-token prompt", Rejected, null, b => b.Set("prompt", HostileJson.Array("5", 100_000)));
        }

        field("stop", HostileJson.HugeString(Mb), Rejected, null);
        field("stop", HostileJson.Array("\"ab\"", 100_000), Rejected, null);
        field("logit_bias", "{" + string.Join(',', Enumerable.Range(0, 100_000).Select(i => $"\"{i % 500}\":1")) + "}", Rejected, null);
        field("stop_token_ids", HostileJson.Array("5", 100_000), Either, null);
        field("user", HostileJson.HugeString(5 * Mb), Either, null);
        add("2 MB unknown field", Either, null, b => b.Set("x_padding", HostileJson.HugeString(2 * Mb)));
        add("n=128 with max_tokens=512", Either, null, b => b.Set("n", "128").Set("max_tokens", "512").Set("ignore_eos", "true"));
    }

    private static void Mutations(List<HostileBody> bodies, string model, Random random, int count)
    {
        for (int i = 0; i < count; i++)
        {
            bool chat = random.Next(2) == 0;
            var body = chat ? HostileJson.Chat(model) : HostileJson.Completion(model);
            // Not the token counts: a valid mutant must stay short (max_tokens comes from the base body).
            string[] fields = [.. (chat ? ChatFields : TextFields).Where(f => f is not ("max_tokens" or "max_completion_tokens"))];
            var names = new List<string>();
            for (int k = random.Next(1, 4); k > 0; k--)
            {
                string name = fields[random.Next(fields.Length)];
                string raw = Pool[random.Next(Pool.Length)];
                body.Set(name, raw);
                names.Add($"{name}={raw}");
            }

            bodies.Add(new HostileBody($"mutation {i.ToString(CultureInfo.InvariantCulture)}: {string.Join(", ", names)}", chat ? Chat : Text, body.ToBytes(), Either));
        }
    }

    private static string Shorten(string raw) => raw.Length <= 60 ? raw : $"{raw[..30]}…({raw.Length:N0} chars)";
}
