using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdOS.Akka.Engine.Rpc.JsonRpc;
using IdOS.Akka.Engine.Rpc.Kwil;
using IdOS.Akka.Engine.Rpc.Services;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Rpc;

/// <summary>
/// The JSON-RPC envelope and the write path of the "user" service against an in-memory gateway: every malformed
/// request gets its stable error and HTTP status, and transactions are refused before any mempool with kwild's codes.
/// </summary>
[Trait("Category", "Unit")]
public sealed class UserServiceTests : IDisposable
{
    private const string Chain = "idos-capture-test";
    private readonly FakeGateway _gateway = new();
    private readonly RpcActors _actors = new();
    private readonly JsonRpcDispatcher _dispatcher;

    public UserServiceTests()
    {
        var service = new UserService(_gateway, _actors.Verifiers, _actors.Reads(_gateway), new PendingNonces(TimeProvider.System, TimeSpan.FromMinutes(2)),
            new BroadcastSettings(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(5)));
        _dispatcher = new JsonRpcDispatcher(service.Methods, 1 << 20, TimeSpan.FromSeconds(10));
    }

    public void Dispose() => _actors.Dispose();

    [Theory]
    [InlineData("{not json", 400, RpcErrorCode.ParseError)]
    [InlineData("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"user.ping\",\"params\":{}}]", 400, RpcErrorCode.InvalidRequest)]
    [InlineData("{\"id\":1,\"method\":\"user.ping\",\"params\":{}}", 400, RpcErrorCode.InvalidRequest)]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"user.nothing\",\"params\":{}}", 404, RpcErrorCode.MethodNotFound)]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"user.ping\",\"params\":[1]}", 400, RpcErrorCode.InvalidParams)]
    [InlineData("\"just a string\"", 400, RpcErrorCode.InvalidRequest)]
    public async Task Malformed_requests_get_their_json_rpc_error_and_status(string body, int status, int code)
    {
        var (httpStatus, answer) = await Send(body);

        Assert.Equal(status, httpStatus);
        Assert.Equal(code, (int)answer["error"]!["code"]!);
        Assert.Equal("2.0", (string?)answer["jsonrpc"]);
    }

    [Fact]
    public async Task Deep_nesting_and_oversized_bodies_are_refused_before_anything_runs()
    {
        var deep = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"user.ping\",\"params\":{\"a\":" + new string('[', 40) + new string(']', 40) + "}}";
        Assert.Equal(RpcErrorCode.ParseError, (int)(await Send(deep)).Answer["error"]!["code"]!);

        var large = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"user.ping\",\"params\":{\"a\":\"" + new string('x', (1 << 20) + 1) + "\"}}";
        Assert.Equal(RpcErrorCode.InvalidRequest, (int)(await Send(large)).Answer["error"]!["code"]!);
    }

    [Fact]
    public async Task A_request_over_its_time_is_answered_with_its_error_and_its_work_is_cancelled()
    {
        var cancelled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var methods = new Dictionary<string, RpcMethod>(StringComparer.Ordinal)
        {
            ["user.slow"] = async (_, _, cancel) =>
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, cancel);
                }
                catch (OperationCanceledException)
                {
                    cancelled.TrySetResult(cancel.IsCancellationRequested);
                    throw;
                }

                return new JsonObject();
            },
        };
        var dispatcher = new JsonRpcDispatcher(methods, 1 << 10, TimeSpan.FromMilliseconds(50));

        var response = await dispatcher.Handle(Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"user.slow\",\"params\":{}}"),
            new RequestContext("127.0.0.1", null), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(JsonRpcDispatcher.TimedOut, (int)JsonNode.Parse(response.Body)!["error"]!["code"]!);
        Assert.True(await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Chain_info_health_and_ping_answer_as_the_client_expects_and_echo_the_id()
    {
        var info = (await Call("user.chain_info", "{}", id: 7)).Answer;
        var health = (await Call("user.health", "{}")).Answer["result"]!;

        Assert.Equal(7, (int)info["id"]!);
        Assert.Equal((Chain, 12L, false), ((string?)info["result"]!["chain_id"], (long)info["result"]!["block_height"]!, (bool)info["result"]!["gas"]!));
        Assert.Equal(("open", true), ((string?)health["mode"], (bool)health["healthy"]!));
        Assert.Equal("pong", (string?)(await Call("user.ping", "{\"message\":\"ping\"}")).Answer["result"]!["message"]);
    }

    [Fact]
    public async Task An_account_is_found_by_hex_with_or_without_0x_in_any_case_and_pending_nonces_count_on_request()
    {
        _gateway.Nonces["secp256k1:" + CapturedBroadcast.Sender] = 4;

        var typed = (await Call("user.account", "{\"id\":{\"identifier\":\"0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A\",\"key_type\":\"secp256k1\"},\"status\":0}")).Answer["result"]!;
        var inferred = (await Call("user.account", "{\"id\":{\"identifier\":\"19e7e376e7c213b7e7e7e46cc70a5dd086daff2a\"}}")).Answer["result"]!;
        var unknown = (await Call("user.account", "{\"id\":{\"identifier\":\"a09aa5f47a6759802ff955f8dc2d2a14a5c99d23be97f864127ff9383455a4f0\",\"key_type\":\"ed25519\"}}")).Answer["result"]!;

        Assert.Equal((4L, "0"), ((long)typed["nonce"]!, (string?)typed["balance"]));
        Assert.Equal(4L, (long)inferred["nonce"]!);
        Assert.Equal(0L, (long)unknown["nonce"]!);
        Assert.Null(unknown["id"]);
        Assert.Equal(RpcErrorCode.InvalidParams, (int)(await Call("user.account", "{\"id\":{\"identifier\":\"xyz\"}}")).Answer["error"]!["code"]!);
    }

    [Fact]
    public async Task The_captured_broadcast_is_accepted_then_waited_for_and_its_replay_refused_with_the_nonce_code()
    {
        var accepted = (await Call("user.broadcast", $"{{\"tx\":{CapturedBroadcast.Json}}}")).Answer["result"]!;
        Assert.Equal("446c2ba5826b63462e9d359ab7e242a1e29571481d50b13d43a0258cde7e3cc7", (string?)accepted["tx_hash"]);
        Assert.Null(accepted["result"]);
        Assert.Single(_gateway.Submitted);

        var pendingAccount = (await Call("user.account", "{\"id\":{\"identifier\":\"19e7e376e7c213b7e7e7e46cc70a5dd086daff2a\",\"key_type\":\"secp256k1\"},\"status\":1}")).Answer;
        Assert.Equal(1L, (long)pendingAccount["result"]!["nonce"]!);

        var replay = (await Call("user.broadcast", $"{{\"tx\":{CapturedBroadcast.Json},\"sync\":1}}")).Answer["error"]!;
        Assert.Equal((RpcErrorCode.BroadcastFailed, 4), ((int)replay["code"]!, (int)replay["data"]!["code"]!));
        Assert.Single(_gateway.Submitted);
    }

    [Fact]
    public async Task A_synchronous_broadcast_returns_the_execution_result_and_tx_query_the_transaction()
    {
        _gateway.ExecuteOnSubmit = (113, "the grant is locked until 1795430333");

        var answer = (await Call("user.broadcast", $"{{\"tx\":{CapturedBroadcast.Json},\"sync\":1}}")).Answer["result"]!;
        Assert.Equal((113, "the grant is locked until 1795430333"), ((int)answer["result"]!["code"]!, (string?)answer["result"]!["log"]));

        var query = (await Call("user.tx_query", "{\"tx_hash\":\"446c2ba5826b63462e9d359ab7e242a1e29571481d50b13d43a0258cde7e3cc7\"}")).Answer["result"]!;
        var transaction = TransactionJson.Parse(JsonDocument.Parse(query["tx"]!.ToJsonString()).RootElement, requireSignature: true);
        Assert.Equal(_gateway.Submitted[0], transaction.ToBytes());
        Assert.Equal(RpcErrorCode.TransactionNotFound,
            (int)(await Call("user.tx_query", $"{{\"tx_hash\":\"{new string('0', 64)}\"}}")).Answer["error"]!["code"]!);
    }

    [Theory]
    [InlineData("wrong chain", 5)]
    [InlineData("forged signature", 3)]
    [InlineData("malleated signature", 3)]
    [InlineData("stale nonce", 4)]
    public async Task Transactions_that_cannot_execute_are_refused_before_any_mempool(string fault, int txCode)
    {
        var json = JsonNode.Parse(CapturedBroadcast.Json)!;
        switch (fault)
        {
            case "wrong chain":
                json["body"]!["chain_id"] = "another-chain";
                break;
            case "forged signature":
                var forged = Convert.FromBase64String((string)json["signature"]!["sig"]!);
                forged[5] ^= 1;
                json["signature"]!["sig"] = Convert.ToBase64String(forged);
                break;
            case "malleated signature":
                json["signature"]!["sig"] = Convert.ToBase64String(CapturedBroadcast.Malleate(Convert.FromBase64String((string)json["signature"]!["sig"]!)));
                break;
            default:
                // The signed nonce 1 is stale once the account has used 3.
                _gateway.Nonces["secp256k1:" + CapturedBroadcast.Sender] = 3;
                break;
        }

        var error = (await Call("user.broadcast", $"{{\"tx\":{json.ToJsonString()}}}")).Answer["error"]!;

        Assert.Equal((RpcErrorCode.BroadcastFailed, txCode), ((int)error["code"]!, (int)error["data"]!["code"]!));
        Assert.Empty(_gateway.Submitted);
    }

    [Fact]
    public async Task Estimate_price_is_zero_for_a_well_formed_half_built_transaction()
    {
        var json = JsonNode.Parse(CapturedBroadcast.Json)!;
        json["signature"]!["sig"] = null;
        json["body"]!["fee"] = null;
        json["body"]!["nonce"] = null;

        Assert.Equal("0", (string?)(await Call("user.estimate_price", $"{{\"tx\":{json.ToJsonString()}}}")).Answer["result"]!["price"]);
    }

    private Task<(int Status, JsonNode Answer)> Call(string method, string parameters, int id = 1) =>
        Send($"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"{method}\",\"params\":{parameters}}}");

    private async Task<(int Status, JsonNode Answer)> Send(string body)
    {
        var response = await _dispatcher.Handle(Encoding.UTF8.GetBytes(body), new RequestContext("127.0.0.1", null), CancellationToken.None);
        return (response.HttpStatus, JsonNode.Parse(response.Body)!);
    }
}
