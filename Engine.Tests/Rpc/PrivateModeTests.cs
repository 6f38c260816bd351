using System.Text;
using System.Text.Json.Nodes;
using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Rpc.JsonRpc;
using IdOS.Akka.Engine.Rpc.Services;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Rpc;

/// <summary>
/// Private mode: every read is signed over a single-use challenge, and each way of getting it wrong has its own code
/// (-1001 no signature, -1002 bad challenge, -1003 unknown/used/expired, -1004 wrong signature). Also the
/// restricted user.query, and the per-address rate limit on challenges and writes.
/// </summary>
[Trait("Category", "Unit")]
public sealed class PrivateModeTests : IDisposable
{
    private const string Payload = "AAAEAAAAbWFpbg4AAABnZXRfYXR0cmlidXRlcwAA";
    private readonly ManualClock _clock = new();
    private readonly RpcActors _actors = new();
    private readonly FakeGateway _gateway = new();
    private readonly JsonRpcDispatcher _private;
    private readonly JsonRpcDispatcher _open;
    private readonly ViewChallenges _challenges;

    public PrivateModeTests()
    {
        _challenges = new ViewChallenges(_clock, TimeSpan.FromSeconds(10));
        var sessions = new KgwSessions(_actors.Verifiers, _clock, _ => Task.FromResult(FakeGateway.ChainId), TimeSpan.FromHours(1));
        var reads = _actors.Reads(_gateway);
        var user = new UserService(_gateway, _actors.Verifiers, reads, new PendingNonces(_clock, TimeSpan.FromMinutes(2)), BroadcastSettings.Default, privateMode: true);
        _private = new JsonRpcDispatcher(user.Methods.Concat(new CallService(reads, sessions, _challenges, _actors.Verifiers).Methods)
            .Concat(_challenges.Methods).Concat(new ActionLookup(privateMode: true).Methods).ToDictionary(StringComparer.Ordinal), 1 << 20, TimeSpan.FromSeconds(10));
        _open = new JsonRpcDispatcher(new ActionLookup(privateMode: false).Methods.ToDictionary(StringComparer.Ordinal), 1 << 20, TimeSpan.FromSeconds(10));
    }

    public void Dispose() => _actors.Dispose();

    [Theory]
    [InlineData("secp256k1_ep", "19e7e376e7c213b7e7e7e46cc70a5dd086daff2a", "FUim1nmHYbP1RxJX7FDD8qrq7Ts3+IW36ObRPl1dwi4=",
        "UA4t8x6I/4YXTU1AqR5zNcNMNnAWxwpAxdVoyDtEyzMkqeGvGZlfJpIlpFjH3aAXIJmiV0vFFEkjKKzeMGyycRs=")]
    [InlineData("ed25519", "a09aa5f47a6759802ff955f8dc2d2a14a5c99d23be97f864127ff9383455a4f0", "1q00NG4GcB+a/8maRjceYUqB7F4tJdVKfMtPfOkHvFg=",
        "FHDG+331qjRgD4NrwYjtmX0DQirYkKXyaX89KD90sXdhv+t+BzTEmq+yiIs6gKNGp4IZIIh5OdhY4zYNbBduDw==")]
    public async Task The_captured_private_calls_verify_over_the_text_built_here(string type, string sender, string challenge, string signature)
    {
        var payload = Convert.FromBase64String(Payload);
        var text = ViewChallenges.SignedText(ActionPayload.DecodeCall(payload), payload, Convert.FromBase64String(challenge));

        var check = await _actors.Verifiers.Message(type, Convert.FromHexString(sender), Encoding.UTF8.GetBytes(text), Convert.FromBase64String(signature), CancellationToken.None);

        Assert.StartsWith("Kwil view call.\n\nNamespace: main\nMethod: get_attributes\nDigest: 77fc5e582b2f9d11d59e8110ee66fcd75a877dbb\n", text, StringComparison.Ordinal);
        Assert.True(check.IsValid, check.Refusal);
    }

    [Fact]
    public async Task A_call_signed_over_a_fresh_challenge_runs_as_its_signer_once()
    {
        var wallet = EvmKey.Generate();
        var health = await Send(_private, "user.health", new JsonObject());
        Assert.Equal("private", (string?)health["result"]!["mode"]);

        var challenge = await Challenge();
        var call = SignedCall(wallet, challenge);
        var answer = await Send(_private, "user.call", call);
        Assert.Equal(wallet.ChecksumAddress, (string?)answer["result"]!["query_result"]!["values"]![0]![0]);

        var replayed = await Send(_private, "user.call", call);
        Assert.Equal(RpcErrorCode.ChallengeExpired, Code(replayed));
    }

    [Fact]
    public async Task Every_wrong_private_call_gets_its_own_code()
    {
        var wallet = EvmKey.Generate();
        var anonymous = new JsonObject { ["body"] = new JsonObject { ["payload"] = Payload }, ["sender"] = "", ["signature"] = "" };
        Assert.Equal(RpcErrorCode.ChallengeRequired, Code(await Send(_private, "user.call", anonymous)));

        var unsigned = SignedCall(wallet, await Challenge());
        unsigned["signature"] = "";
        Assert.Equal(RpcErrorCode.ChallengeRequired, Code(await Send(_private, "user.call", unsigned)));

        var shortChallenge = SignedCall(wallet, await Challenge());
        shortChallenge["body"]!["challenge"] = Convert.ToBase64String(new byte[31]);
        Assert.Equal(RpcErrorCode.InvalidChallenge, Code(await Send(_private, "user.call", shortChallenge)));

        var invented = SignedCall(wallet, new byte[ViewChallenges.Size]);
        Assert.Equal(RpcErrorCode.ChallengeExpired, Code(await Send(_private, "user.call", invented)));

        var late = SignedCall(wallet, await Challenge());
        _clock.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(RpcErrorCode.ChallengeExpired, Code(await Send(_private, "user.call", late)));

        var impostor = SignedCall(wallet, await Challenge());
        impostor["sender"] = Convert.ToHexStringLower(EvmKey.Generate().Address);
        Assert.Equal(RpcErrorCode.InvalidCallSignature, Code(await Send(_private, "user.call", impostor)));

        Assert.Equal(RpcErrorCode.QueryNotAllowed, Code(await Send(_private, "user.query", ActionsQuery("main"))));
    }

    [Fact]
    public async Task User_query_answers_the_action_lookup_and_nothing_else()
    {
        var answer = await Send(_open, "user.query", ActionsQuery("main"));
        var rows = answer["result"]!["query_result"]!["values"]!.AsArray();
        var hasProfile = rows.Single(r => (string?)r![1] == "has_profile")!;
        Assert.Equal(["PUBLIC", "VIEW"], hasProfile[3]!.AsArray().Select(m => (string?)m));
        Assert.Equal(["$address"], hasProfile[4]!.AsArray().Select(m => (string?)m));
        var addInserter = rows.Single(r => (string?)r![1] == "add_inserter_as_owner")!;
        Assert.Contains("OWNER", addInserter[3]!.AsArray().Select(m => (string?)m));

        Assert.Empty((await Send(_open, "user.query", ActionsQuery("elsewhere")))["result"]!["query_result"]!["values"]!.AsArray());
        var other = ActionsQuery("main");
        other["query"] = "SELECT * FROM credentials";
        Assert.Equal(RpcErrorCode.InvalidParams, Code(await Send(_open, "user.query", other)));
    }

    [Fact]
    public async Task An_address_over_its_budget_is_refused_until_its_bucket_refills_and_others_are_not_held_back()
    {
        var limit = new PerAddressRateLimit(2, 3, _clock);
        var guarded = limit.Guard((_, _, _) => Task.FromResult<JsonNode>(new JsonObject()), "challenges");
        var dispatcher = new JsonRpcDispatcher(new Dictionary<string, RpcMethod>(StringComparer.Ordinal) { ["user.challenge"] = guarded }, 1 << 10, TimeSpan.FromSeconds(10));

        var codes = new List<int?>();
        for (var i = 0; i < 4; i++)
        {
            codes.Add(Code(await Send(dispatcher, "user.challenge", new JsonObject(), "10.0.0.1")));
        }

        var other = Code(await Send(dispatcher, "user.challenge", new JsonObject(), "10.0.0.2"));
        _clock.Advance(TimeSpan.FromMilliseconds(500));
        var refilled = Code(await Send(dispatcher, "user.challenge", new JsonObject(), "10.0.0.1"));

        Assert.Equal([null, null, null, RpcErrorCode.RateLimited], codes);
        Assert.Null(other);
        Assert.Null(refilled);
    }

    private async Task<byte[]> Challenge() =>
        Convert.FromHexString((string)(await Send(_private, "user.challenge", new JsonObject()))["result"]!["challenge"]!);

    private static JsonObject SignedCall(EvmKey wallet, byte[] challenge)
    {
        var payload = Convert.FromBase64String(Payload);
        var text = ViewChallenges.SignedText(ActionPayload.DecodeCall(payload), payload, challenge);
        return new JsonObject
        {
            ["body"] = new JsonObject { ["payload"] = Payload, ["challenge"] = Convert.ToBase64String(challenge) },
            ["auth_type"] = KwilAuthenticator.EthereumPersonalSign,
            ["sender"] = Convert.ToHexStringLower(wallet.Address),
            ["signature"] = Convert.ToBase64String(wallet.SignPersonal(Encoding.UTF8.GetBytes(text))),
        };
    }

    private static JsonObject ActionsQuery(string ns) => new()
    {
        ["query"] = "SELECT * FROM info.actions WHERE namespace = $namespace",
        ["params"] = new JsonObject
        {
            ["$namespace"] = new JsonObject
            {
                ["type"] = new JsonObject { ["name"] = "text", ["is_array"] = false, ["metadata"] = new JsonArray(0, 0) },
                ["data"] = new JsonArray(Convert.ToBase64String([1, .. Encoding.UTF8.GetBytes(ns)])),
            },
        },
    };

    private static int? Code(JsonNode answer) => (int?)answer["error"]?["code"];

    private static async Task<JsonNode> Send(JsonRpcDispatcher dispatcher, string method, JsonObject parameters, string address = "127.0.0.1")
    {
        var body = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 1, ["method"] = method, ["params"] = parameters.DeepClone() }.ToJsonString();
        var response = await dispatcher.Handle(Encoding.UTF8.GetBytes(body), new RequestContext(address, null), CancellationToken.None);
        return JsonNode.Parse(response.Body)!;
    }
}
