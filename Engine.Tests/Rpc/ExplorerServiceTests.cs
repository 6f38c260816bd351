using System.Text;
using System.Text.Json.Nodes;
using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Rpc.Explorer;
using IdOS.Akka.Engine.Rpc.JsonRpc;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Rpc;

/// <summary>
/// The explorer's JSON-RPC methods against in-memory validators: their answers, their refusals of bad parameters, the
/// head's block list read once for every page polling within half a second, and transactions shown as an action's
/// name and size, never their contents.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ExplorerServiceTests
{
    private readonly ManualClock _clock = new();
    private readonly FakeExplorer _explorer = new();
    private readonly FakeGateway _gateway = new();
    private readonly JsonRpcDispatcher _dispatcher;

    public ExplorerServiceTests()
    {
        _dispatcher = new JsonRpcDispatcher(new ExplorerService(_explorer, _gateway, _clock).Methods, 1 << 20, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task The_head_is_read_once_for_every_page_polling_within_its_lifetime_and_again_after()
    {
        var first = await Result("explorer.blocks", "{}");
        await Result("explorer.blocks", "{}");
        Assert.Equal(1, _explorer.RecentReads);
        Assert.Equal(20, first["blocks"]!.AsArray().Count);
        Assert.Equal(100, (long)first["height"]!);
        Assert.Equal(_clock.GetUtcNow().ToUnixTimeMilliseconds(), (long)first["now_ms"]!);
        var newest = first["blocks"]![0]!;
        Assert.Equal(100, (long)newest["height"]!);
        Assert.Equal("k0", (string?)newest["proposer"]!["key"]);
        Assert.Equal(3, newest["signers"]!.AsArray().Count);

        _clock.Advance(ExplorerService.SharedFor);
        await Result("explorer.blocks", "{}");
        Assert.Equal(2, _explorer.RecentReads);

        // Older pages are not shared: each asks below its height.
        var older = await Result("explorer.blocks", "{\"before\":50,\"count\":5}");
        Assert.Equal([49L, 48, 47, 46, 45], older["blocks"]!.AsArray().Select(b => (long)b!["height"]!));
    }

    [Theory]
    [InlineData("explorer.blocks", "{\"count\":0}", "count must be an integer from 1 to 50")]
    [InlineData("explorer.blocks", "{\"count\":51}", "count must be an integer from 1 to 50")]
    [InlineData("explorer.blocks", "{\"before\":1}", "before must be an integer from 2")]
    [InlineData("explorer.block", "{}", "height (an integer from 1) is required")]
    [InlineData("explorer.block", "{\"height\":\"7\"}", "height must be an integer")]
    [InlineData("explorer.block", "{\"height\":7,\"limit\":501}", "limit must be an integer from 1 to 500")]
    [InlineData("explorer.tx", "{}", "hash (64 hex digits) is required")]
    [InlineData("explorer.tx", "{\"hash\":\"abcd\"}", "hash is 32 bytes of hex")]
    public async Task Bad_parameters_are_refused_naming_the_field(string method, string parameters, string message)
    {
        var error = await Error(method, parameters);
        Assert.Equal(RpcErrorCode.InvalidParams, (int)error["code"]!);
        Assert.Contains(message, (string?)error["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_block_lists_its_transactions_with_their_results_and_a_height_not_committed_is_a_clear_error()
    {
        var block = await Result("explorer.block", "{\"height\":7,\"offset\":1,\"limit\":2}");
        Assert.Equal(7, (long)block["block"]!["height"]!);
        Assert.Equal(1, (int)block["offset"]!);
        var transactions = block["transactions"]!.AsArray();
        Assert.Equal((7, 1, 2), _explorer.LastBlockQuery);
        Assert.Equal("main.add_user_as_inserter", (string?)transactions[0]!["action"]);
        Assert.Equal("ok", (string?)transactions[0]!["result"]);
        Assert.Equal("unauthorized", (string?)transactions[1]!["result"]);
        Assert.Null(transactions[1]!["bytes"]);

        var missing = await Error("explorer.block", "{\"height\":1000}");
        Assert.Equal(ExplorerLimits.BlockNotFound, (int)missing["code"]!);
        Assert.Equal("height 1000 is not committed (the committed height is 100)", (string?)missing["message"]);
    }

    [Fact]
    public async Task A_transaction_by_hash_shows_its_action_size_and_result_but_none_of_its_arguments()
    {
        var key = NSec.Cryptography.Key.Create(NSec.Cryptography.SignatureAlgorithm.Ed25519);
        var signer = KwilSigner.ForEd25519(key);
        var transaction = signer.Execute(FakeGateway.ChainId, 1, "add_attribute", [KwilValue.OfText("secret-attribute-marker")]);
        var hash = System.Security.Cryptography.SHA256.HashData(transaction);
        _gateway.MarkExecuted(hash, TxCode.ForAction(ActionError.NotFound), "attribute secret-attribute-marker does not exist", transaction);

        var answer = await Result("explorer.tx", $"{{\"hash\":\"0x{Convert.ToHexString(hash)}\"}}");
        Assert.Equal(Convert.ToHexStringLower(hash), (string?)answer["hash"]);
        Assert.Equal("main.add_attribute", (string?)answer["action"]);
        Assert.Equal(transaction.Length, (int)answer["bytes"]!);
        Assert.Equal((112, "not_found", 13L), ((int)answer["code"]!, (string?)answer["result"], (long)answer["height"]!));
        var text = answer.ToJsonString();
        Assert.DoesNotContain("secret-attribute-marker", text, StringComparison.Ordinal);
        Assert.DoesNotContain(signer.Caller, text, StringComparison.OrdinalIgnoreCase);

        var unknown = await Error("explorer.tx", $"{{\"hash\":\"{new string('0', 64)}\"}}");
        Assert.Equal(RpcErrorCode.TransactionNotFound, (int)unknown["code"]!);
    }

    [Fact]
    public async Task Validators_are_read_once_for_every_page_within_two_seconds()
    {
        var answer = await Result("explorer.validators", "{}");
        await Result("explorer.validators", "{}");
        Assert.Equal(1, _explorer.ValidatorReads);
        Assert.Equal([99L, 0, 100, 98], answer["validators"]!.AsArray().Select(v => (long)v!["last_vote_height"]!));
        _clock.Advance(ExplorerService.SharedFor * 4);
        await Result("explorer.validators", "{}");
        Assert.Equal(2, _explorer.ValidatorReads);
    }

    [Fact]
    public async Task A_failed_read_is_not_shared_with_the_next_page()
    {
        _explorer.FailNext = true;
        Assert.Equal(RpcErrorCode.Unavailable, (int)(await Error("explorer.blocks", "{}"))["code"]!);
        Assert.Equal(20, (await Result("explorer.blocks", "{}"))["blocks"]!.AsArray().Count);
    }

    [Fact]
    public void Labels_name_the_action_or_payload_type_and_never_pass_on_what_is_not_a_plain_name()
    {
        var key = NSec.Cryptography.Key.Create(NSec.Cryptography.SignatureAlgorithm.Ed25519);
        var signer = KwilSigner.ForEd25519(key);
        Assert.Equal("main.get_user", TransactionLabel.Of(signer.Execute("c", 1, "get_user", [])));
        Assert.Equal(TransactionLabel.Opaque, TransactionLabel.Of([1, 2, 3]));
        Assert.Equal(TransactionLabel.Opaque, TransactionLabel.Of(signer.Execute("c", 1, "<script>alert(1)</script>", [])));
        Assert.Equal(TransactionLabel.Opaque, TransactionLabel.Of(signer.Execute("c", 1, new string('a', 80), [])));
    }

    [Theory]
    [InlineData(0, "ok")]
    [InlineData(4, "invalid_nonce")]
    [InlineData(111, "unauthorized")]
    [InlineData(110, "bad_arguments")]
    [InlineData(199, "internal")]
    [InlineData(150, "failed")]
    [InlineData(65535, "failed")]
    public void Result_codes_have_names(int code, string name) => Assert.Equal(name, TxCode.Name(code));

    private async Task<JsonNode> Result(string method, string parameters)
    {
        var answer = await Send(method, parameters);
        return answer["result"] ?? throw new Xunit.Sdk.XunitException(answer.ToJsonString());
    }

    private async Task<JsonNode> Error(string method, string parameters)
    {
        var answer = await Send(method, parameters);
        return answer["error"] ?? throw new Xunit.Sdk.XunitException(answer.ToJsonString());
    }

    private async Task<JsonNode> Send(string method, string parameters)
    {
        var body = $"{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"{method}\",\"params\":{parameters}}}";
        var response = await _dispatcher.Handle(Encoding.UTF8.GetBytes(body), new RequestContext("127.0.0.1", null), CancellationToken.None);
        return JsonNode.Parse(response.Body)!;
    }

    /// <summary>A chain of 100 committed blocks in one epoch of four validators.</summary>
    private sealed class FakeExplorer : IExplorerGateway
    {
        public int RecentReads { get; private set; }

        public int ValidatorReads { get; private set; }

        public bool FailNext { get; set; }

        public (long Height, int Offset, int Limit) LastBlockQuery { get; private set; }

        public Task<ExplorerBlocks> RecentBlocks(long atOrBelow, int count, CancellationToken cancel)
        {
            if (FailNext)
            {
                FailNext = false;
                throw new RpcException(RpcErrorCode.Unavailable, "no validator answered");
            }

            RecentReads++;
            var top = atOrBelow == 0 ? 100 : atOrBelow;
            return Task.FromResult(new ExplorerBlocks(100, 99, [.. Enumerable.Range(0, count).Select(i => Block(top - i))]));
        }

        public Task<ExplorerBlockPage> Block(long height, int transactionOffset, int transactionLimit, CancellationToken cancel)
        {
            LastBlockQuery = (height, transactionOffset, transactionLimit);
            return Task.FromResult(height > 100
                ? new ExplorerBlockPage(100, 99, null, [])
                : new ExplorerBlockPage(100, 99, Block(height),
                [
                    new ExplorerTransaction(new string('1', 64), "main.add_user_as_inserter", 358, 0),
                    new ExplorerTransaction(new string('2', 64), null, null, 111),
                ]));
        }

        public Task<ExplorerValidators> Validators(CancellationToken cancel)
        {
            ValidatorReads++;
            long[] votes = [99, 0, 100, 98];
            return Task.FromResult(new ExplorerValidators(100, 0, [.. votes.Select((h, i) => new ValidatorVote(i, $"k{i}", h, h * 100))]));
        }

        private static ExplorerBlock Block(long height) =>
            new(height, new string('a', 64), height + 1, height * 100, 0, new ValidatorRef((int)(height % 4), $"k{height % 4}"), 40, 14_000,
                [new ValidatorRef(0, "k0"), new ValidatorRef(1, "k1"), new ValidatorRef(3, "k3")]);
    }
}
