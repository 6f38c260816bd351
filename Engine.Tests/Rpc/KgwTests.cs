using System.Text;
using System.Text.Json.Nodes;
using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Rpc.JsonRpc;
using IdOS.Akka.Engine.Rpc.Services;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Rpc;

/// <summary>
/// Reads only as a proven identity: `user.call` with a sender needs a KGW session for exactly that sender, which a
/// wallet gets by signing the login text once; without a sender a call runs anonymously.
/// </summary>
[Trait("Category", "Unit")]
public sealed class KgwTests : IDisposable
{
    private const string Node = "http://127.0.0.1:8484";
    private const string Payload = "AAAEAAAAbWFpbg4AAABnZXRfYXR0cmlidXRlcwAA";
    private readonly JsonRpcDispatcher _dispatcher;
    private readonly EvmKey _wallet = EvmKey.Generate();
    private readonly RpcActors _actors = new();

    public KgwTests()
    {
        var gateway = new FakeGateway();
        var sessions = new KgwSessions(_actors.Verifiers, TimeProvider.System, _ => Task.FromResult(FakeGateway.ChainId), TimeSpan.FromHours(1));
        _dispatcher = new JsonRpcDispatcher(new CallService(_actors.Reads(gateway), sessions, null, _actors.Verifiers).Methods.Concat(sessions.Methods).ToDictionary(StringComparer.Ordinal),
            1 << 20, TimeSpan.FromSeconds(10));
    }

    private string Sender => Convert.ToHexStringLower(_wallet.Address);

    public void Dispose() => _actors.Dispose();

    [Fact]
    public async Task A_call_naming_a_sender_needs_a_session_and_an_anonymous_one_runs_as_nobody()
    {
        var refused = await Send("user.call", CallParameters(Sender));
        Assert.Equal((RpcErrorCode.AuthenticationRequired, "not authorized"), ((int)refused.Answer["error"]!["code"]!, (string?)refused.Answer["error"]!["message"]));

        var anonymous = await Send("user.call", CallParameters(""));
        Assert.Equal("", (string?)anonymous.Answer["result"]!["query_result"]!["values"]![0]![0]);
    }

    [Fact]
    public async Task A_signed_login_sets_the_cookie_that_lets_that_sender_and_only_it_read_until_logout()
    {
        var cookie = await Login();

        var answer = await Send("user.call", CallParameters(Sender), cookie);
        Assert.Equal(_wallet.ChecksumAddress, (string?)answer.Answer["result"]!["query_result"]!["values"]![0]![0]);

        var other = Convert.ToHexStringLower(EvmKey.Generate().Address);
        Assert.Equal(RpcErrorCode.AuthenticationRequired, (int)(await Send("user.call", CallParameters(other), cookie)).Answer["error"]!["code"]!);

        var logout = await Send("kgw.logout", new JsonObject { ["account"] = "" }, cookie);
        Assert.Contains("kgw_session=;", Assert.Single(logout.Cookies), StringComparison.Ordinal);
        Assert.Equal(RpcErrorCode.AuthenticationRequired, (int)(await Send("user.call", CallParameters(Sender), cookie)).Answer["error"]!["code"]!);
    }

    [Fact]
    public async Task A_login_nonce_is_single_use_and_a_signature_by_another_wallet_is_refused()
    {
        var parameters = (JsonObject)(await Send("kgw.authn_param", [])).Answer["result"]!;
        Assert.Equal((Node, FakeGateway.ChainId, "1"), ((string?)parameters["domain"], (string?)parameters["chain_id"], (string?)parameters["version"]));
        var text = KgwSessions.LoginText(parameters);

        var forged = await Send("kgw.authn", Authn(parameters, EvmKey.Generate().SignPersonal(Encoding.UTF8.GetBytes(text))));
        Assert.Contains("does not verify", (string?)forged.Answer["error"]!["message"], StringComparison.Ordinal);
        var replayed = await Send("kgw.authn", Authn(parameters, _wallet.SignPersonal(Encoding.UTF8.GetBytes(text))));
        Assert.Contains("unknown or expired nonce", (string?)replayed.Answer["error"]!["message"], StringComparison.Ordinal);
        Assert.Empty(replayed.Cookies);
    }

    /// <summary>As NodeKwil does: the whole first Set-Cookie value, attributes and all, goes back as the Cookie header.</summary>
    private async Task<string> Login()
    {
        var parameters = (JsonObject)(await Send("kgw.authn_param", [])).Answer["result"]!;
        var signature = _wallet.SignPersonal(Encoding.UTF8.GetBytes(KgwSessions.LoginText(parameters)));
        var answer = await Send("kgw.authn", Authn(parameters, signature));
        Assert.NotNull(answer.Answer["result"]);
        return Assert.Single(answer.Cookies);
    }

    private JsonObject Authn(JsonObject parameters, byte[] signature) => new()
    {
        ["nonce"] = (string?)parameters["nonce"],
        ["sender"] = Sender,
        ["signature"] = new JsonObject { ["sig"] = Convert.ToBase64String(signature), ["type"] = "secp256k1_ep" },
    };

    private static JsonObject CallParameters(string sender) =>
        new() { ["body"] = new JsonObject { ["payload"] = Payload }, ["auth_type"] = "secp256k1_ep", ["sender"] = sender, ["signature"] = "" };

    private async Task<(JsonNode Answer, IReadOnlyList<string> Cookies)> Send(string method, JsonObject parameters, string? cookie = null)
    {
        var body = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 1, ["method"] = method, ["params"] = parameters }.ToJsonString();
        var response = await _dispatcher.Handle(Encoding.UTF8.GetBytes(body), new RequestContext("127.0.0.1", cookie, Node), CancellationToken.None);
        return (JsonNode.Parse(response.Body)!, response.SetCookies);
    }
}
