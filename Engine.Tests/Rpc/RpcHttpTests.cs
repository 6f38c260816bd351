using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using IdOS.Akka.Engine.Rpc.Http;
using IdOS.Akka.Engine.Rpc.JsonRpc;
using IdOS.Akka.Engine.Rpc.Services;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Rpc;

/// <summary>
/// The HTTP endpoint itself (Kestrel on loopback, validators faked): each kind of bad input gets its stable JSON-RPC
/// error — never an HTTP 500, never a dropped connection — and the server keeps answering afterwards.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class RpcHttpTests : IAsyncLifetime, IDisposable
{
    private const int MaxBody = 64 << 10;
    private readonly HttpClient _http = new();
    private readonly RpcActors _actors = new();
    private RpcHttpServer _server = null!;

    private Uri Endpoint => new(_server.Address, RpcHttpServer.Path);

    public async Task InitializeAsync()
    {
        var gateway = new FakeGateway();
        gateway.Nonces["secp256k1:" + CapturedBroadcast.Sender] = 1;
        var service = new UserService(gateway, _actors.Verifiers, _actors.Reads(gateway), new PendingNonces(TimeProvider.System, TimeSpan.FromMinutes(2)),
            BroadcastSettings.Default with { MaxTransactionBytes = 4 << 10 });
        _server = await RpcHttpServer.Start(new IPEndPoint(IPAddress.Loopback, 0), new JsonRpcDispatcher(service.Methods, MaxBody, TimeSpan.FromSeconds(10)), MaxBody);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose()
    {
        _http.Dispose();
        _actors.Dispose();
    }

    /// <summary>Each bad input, the HTTP status and JSON-RPC code it gets, and for a refused broadcast kwild's TxCode in the error data.</summary>
    public static TheoryData<string, string, int, int, int?> BadInputs => new()
    {
        { "malformed JSON", "{\"jsonrpc\":", 400, RpcErrorCode.ParseError, null },
        { "unknown method", Request("user.nothing", "{}"), 404, RpcErrorCode.MethodNotFound, null },
        { "batch", "[" + Request("user.ping", "{}") + "]", 400, RpcErrorCode.InvalidRequest, null },
        { "bad base64", Request("user.broadcast", Tx(payload: "%%%")), 400, RpcErrorCode.InvalidParams, null },
        { "bad hex sender", Request("user.broadcast", Tx(sender: "0xnothex")), 400, RpcErrorCode.InvalidParams, null },
        { "truncated payload under the signature of the whole", Request("user.broadcast", Tx(payload: "AAAE")), 200, RpcErrorCode.BroadcastFailed, 3 },
        { "oversized transaction", Request("user.broadcast", Tx(payload: Convert.ToBase64String(new byte[5 << 10]))), 200, RpcErrorCode.BroadcastFailed, 1 },
        { "wrong chain", Request("user.broadcast", Tx(chain: "another")), 200, RpcErrorCode.BroadcastFailed, 5 },
        { "signature of the wrong size", Request("user.broadcast", Tx(signature: "AAAA")), 200, RpcErrorCode.BroadcastFailed, 3 },
        { "high-s signature", Request("user.broadcast", Captured(highS: true)), 200, RpcErrorCode.BroadcastFailed, 3 },
        { "replayed transaction", Request("user.broadcast", Captured(highS: false)), 200, RpcErrorCode.BroadcastFailed, 4 },
        { "body over the limit", Request("user.ping", "{\"message\":\"" + new string('x', MaxBody) + "\"}"), 400, RpcErrorCode.InvalidRequest, null },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_input_gets_a_stable_json_rpc_error_and_the_server_goes_on(string what, string body, int status, int code, int? txCode)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync(Endpoint, content);
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.True((int)response.StatusCode == status, $"{what}: HTTP {(int)response.StatusCode}");
        Assert.Equal(code, (int)answer["error"]!["code"]!);
        Assert.Equal(txCode, (int?)answer["error"]!["data"]?["code"]);
        using var ping = new StringContent(Request("user.ping", "{\"message\":\"ping\"}"), Encoding.UTF8, "application/json");
        using var after = await _http.PostAsync(Endpoint, ping);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    /// <summary>Bytes no UTF-8 decoder accepts, escapes that decode to no text, and numbers out of range or of the wrong kind.</summary>
    public static TheoryData<string, byte[], int, string> MalformedText => new()
    {
        { "invalid UTF-8 inside the method", Bytes("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"user.pi", [0xC3, 0x28], "ng\",\"params\":{}}"), RpcErrorCode.ParseError, "UTF-8" },
        { "invalid UTF-8 in the id", Bytes("{\"jsonrpc\":\"2.0\",\"id\":\"", [0xFF], "\",\"method\":\"user.ping\",\"params\":{}}"), RpcErrorCode.ParseError, "UTF-8" },
        { "a lone surrogate escaped in a string", Encoding.UTF8.GetBytes(Request("user.ping", "{\"message\":\"\\ud800\"}")), RpcErrorCode.ParseError, "surrogate" },
        { "status out of range", Encoding.UTF8.GetBytes(Request("user.account", $$"""{"id":{"identifier":"{{CapturedBroadcast.Sender}}"},"status":1e10}""")), RpcErrorCode.InvalidParams, "status must be an integer" },
        { "sync a fraction", Encoding.UTF8.GetBytes(Request("user.broadcast", $$"""{"tx":{{CapturedBroadcast.Json}},"sync":1.5}""")), RpcErrorCode.InvalidParams, "sync must be an integer" },
        { "sync a string", Encoding.UTF8.GetBytes(Request("user.broadcast", $$"""{"tx":{{CapturedBroadcast.Json}},"sync":"1"}""")), RpcErrorCode.InvalidParams, "sync must be an integer" },
    };

    [Theory]
    [MemberData(nameof(MalformedText))]
    public async Task Malformed_text_and_numbers_get_a_client_error_naming_what_is_wrong(string what, byte[] body, int code, string message)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await _http.PostAsync(Endpoint, content);
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.True((int)response.StatusCode == 400, $"{what}: HTTP {(int)response.StatusCode}");
        Assert.Equal(code, (int)answer["error"]!["code"]!);
        Assert.Contains(message, (string?)answer["error"]!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task By_default_any_origin_may_call_without_credentials()
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, Endpoint);
        request.Headers.Add("Origin", "https://app.example");
        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.False(response.Headers.Contains("Access-Control-Allow-Credentials"));
    }

    [Fact]
    public async Task Listed_origins_get_their_origin_echoed_with_credentials_and_others_nothing()
    {
        var service = new UserService(new FakeGateway(), _actors.Verifiers, _actors.Reads(new FakeGateway()),
            new PendingNonces(TimeProvider.System, TimeSpan.FromMinutes(2)), BroadcastSettings.Default);
        await using var server = await RpcHttpServer.Start(new IPEndPoint(IPAddress.Loopback, 0),
            new JsonRpcDispatcher(service.Methods, MaxBody, TimeSpan.FromSeconds(10)), MaxBody, ["https://app.example"]);

        foreach (var (origin, allowed) in new[] { ("https://app.example", true), ("https://evil.example", false) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Options, new Uri(server.Address, RpcHttpServer.Path));
            request.Headers.Add("Origin", origin);
            using var response = await _http.SendAsync(request);

            Assert.Equal(allowed, response.Headers.Contains("Access-Control-Allow-Origin"));
            Assert.Equal(allowed, response.Headers.Contains("Access-Control-Allow-Credentials"));
            if (allowed)
            {
                Assert.Equal(origin, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
            }
        }
    }

    [Fact]
    public async Task The_explorer_page_is_served_only_when_asked_for_and_may_load_nothing_from_elsewhere()
    {
        using var off = await _http.GetAsync(new Uri(_server.Address, "/"));
        Assert.Equal(HttpStatusCode.NotFound, off.StatusCode);

        var service = new UserService(new FakeGateway(), _actors.Verifiers, _actors.Reads(new FakeGateway()),
            new PendingNonces(TimeProvider.System, TimeSpan.FromMinutes(2)), BroadcastSettings.Default);
        await using var server = await RpcHttpServer.Start(new IPEndPoint(IPAddress.Loopback, 0),
            new JsonRpcDispatcher(service.Methods, MaxBody, TimeSpan.FromSeconds(10)), MaxBody, explorer: true);
        foreach (var (path, type) in new[] { ("/", "text/html"), ("/explorer/explorer.js", "text/javascript"), ("/explorer/explorer.css", "text/css"),
            ("/explorer/favicon.svg", "image/svg+xml") })
        {
            using var response = await _http.GetAsync(new Uri(server.Address, path));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith(type, response.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
            var policy = response.Headers.GetValues("Content-Security-Policy").Single();
            Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
            Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.DoesNotContain("https://", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var missing = await _http.GetAsync(new Uri(server.Address, "/explorer/secrets.txt"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    private static byte[] Bytes(string before, byte[] middle, string after) => [.. Encoding.UTF8.GetBytes(before), .. middle, .. Encoding.UTF8.GetBytes(after)];

    /// <summary>The captured, validly signed broadcast (nonce 1, which the fake validator already counts as used), or its high-s twin.</summary>
    private static string Captured(bool highS)
    {
        var json = JsonNode.Parse(CapturedBroadcast.Json)!;
        if (highS)
        {
            json["signature"]!["sig"] = Convert.ToBase64String(CapturedBroadcast.Malleate(Convert.FromBase64String((string)json["signature"]!["sig"]!)));
        }

        return new JsonObject { ["tx"] = json }.ToJsonString();
    }

    private static string Request(string method, string parameters) => $"{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"{method}\",\"params\":{parameters}}}";

    private static string Tx(string payload = "AAAEAAAAbWFpbg0AAABh", string sender = "19e7e376e7c213b7e7e7e46cc70a5dd086daff2a", string chain = FakeGateway.ChainId,
        string signature = "zPkTTBo4b1Be13NCV+EjTnOQa9q9QI1w4WwuEFicrjdKb2RIenGtNjEtQLlKHWLlsaVL12wrDhyUEfY5DmyWmhs=") =>
        new JsonObject
        {
            ["tx"] = new JsonObject
            {
                ["signature"] = new JsonObject { ["sig"] = signature, ["type"] = "secp256k1_ep" },
                ["body"] = new JsonObject { ["desc"] = "d", ["payload"] = payload, ["type"] = "execute", ["fee"] = "0", ["nonce"] = 1, ["chain_id"] = chain },
                ["sender"] = sender,
                ["serialization"] = "concat",
            },
        }.ToJsonString();}
