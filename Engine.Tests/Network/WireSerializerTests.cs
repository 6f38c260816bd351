using System.Runtime.Serialization;
using Akka.Configuration;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Tests.Consensus;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Network;

/// <summary>An ActorSystem configured from the shipped hocon/node.conf serializes every wire message with our codec and refuses JSON.</summary>
[Trait("Category", "Unit")]
public sealed class WireSerializerTests() : global::Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString(TestFiles.NodeConf))
{
    private readonly TestChain _t = new();

    private sealed record NotBound(string Text);

    private IEnumerable<ConsensusMessage> Messages()
    {
        var b1 = _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc, [TestChain.Tx(1)]);
        var b3 = _t.Block(3, b1);
        yield return _t.Propose(b1);
        yield return _t.Propose(b3, _t.Tc(2, 1));
        yield return _t.Vote(1, b1.Id, 1);
        yield return _t.Timeout(2, 2, _t.QcFor(b1));
        yield return new RoundSync(_t.QcFor(b1), _t.Tc(2, 1));
        yield return _t.Propose(Block.FromParts(b3.Header with { FailedProposers = SignerBitmap.Create(_t.N, [2]) }, b3.Transactions), _t.Tc(2, 1));
        yield return new BlockRequest(b1.Id, 0, 64);
        yield return new BlockResponse(b3.Id, [b3, b1]);
        yield return new BlockRangeRequest(1, 64);
        yield return new BlockRangeResponse(1, 0, [b1]);
        yield return new BlockRangeResponse(1, 900, []);
        yield return new HeaderRangeRequest(1, 1_024, 2);
        yield return new HeaderRangeResponse(1, [new PrunedBlock(b1.Header, b1.TransactionHashes), new PrunedBlock(b3.Header, [])]);
        var next = _t.InEpoch(1, 1, 2, 3, 4).Chain.Validators;
        var beyond = _t.Block(4, b3, nextSetHash: next.Hash);
        yield return new HeaderRangeResponse(1, [new PrunedBlock(b3.Header, [])]) { Transition = new EpochTransition(new EpochProof([beyond], _t.QcFor(beyond)), next) };
        yield return new EpochEnd(new EpochProof([beyond], _t.QcFor(beyond)));
        yield return new EpochEndRequest(1);
    }

    [Fact]
    public void Every_wire_message_goes_through_the_canonical_codec_and_back()
    {
        foreach (var message in Messages())
        {
            var serializer = Assert.IsType<WireSerializer>(Sys.Serialization.FindSerializerFor(message));
            var bytes = serializer.ToBinary(message);

            var back = Sys.Serialization.Deserialize(bytes, WireSerializer.Id, serializer.Manifest(message));

            Assert.Equal(ConsensusCodec.Encode(message), bytes);
            Assert.Equal(bytes, ConsensusCodec.Encode((ConsensusMessage)back));
            Assert.DoesNotContain(serializer.Manifest(message), NodeMessageCodec.Manifests);
        }
    }

    [Fact]
    public void Every_node_message_goes_through_the_canonical_codec_and_back()
    {
        var hash = TestChain.Tx(1);
        NodeMessage[] messages =
        [
            new SubmitTransactions([TestChain.Tx(1), TestChain.Tx(2)]),
            new ForwardedTransactions([TestChain.Tx(3)]),
            new SubmitResults([
                new SubmitResult(Block.TransactionHash(hash), MempoolAddStatus.Added, null),
                new SubmitResult(Block.TransactionHash(hash), MempoolAddStatus.Rejected, "mempool is full"),
            ]),
            StatusQuery.Instance,
            new NodeStatus(3, 120, 130, _t.Chain.GenesisBlock.Id, 5_000, 17, 3, 2, "from validator 1: stale vote", "test-chain", _t.Chain.GenesisAppHash, 1_700_000_000_000, 9, 4_096, 7, 118, 6),
            new TransactionResultsQuery([Block.TransactionHash(hash), _t.Chain.GenesisBlock.Id]),
            new TransactionResultsQuery([Block.TransactionHash(hash)], IncludeTransactions: true),
            new TransactionResults(42, [new TransactionOutcome(40, 3, 113, "the grant is locked until 1795430333"), null, new TransactionOutcome(41, 0, 0, "", TestChain.Tx(9))]),
            new AppHashQuery(42),
            new AppHashAnswer(42, _t.Chain.GenesisAppHash),
            new AppHashAnswer(43, null),
            new AccountQuery([1, 2, 3], "secp256k1_ep"),
            new AccountAnswer(7, 42),
            new ReadBatchQuery([new ViewCall("0xAbC", [0xab, 0xcd], "secp256k1_ep", [1, 2, 3]), new ViewCall("", [], "", [4])], [new AccountRef([9, 9], "ed25519")], 12),
            new ReadBatchAnswer(12, false,
            [
                new ViewAnswer(0, "", ["id", "name", "count", "ok", "blob", "missing"], [[Guid.NewGuid(), "ünïcode", 42L, true, new byte[] { 1, 2 }, null]]),
                new ViewAnswer(113, "not allowed", [], []),
            ], [1, 8]),
            new ReadBatchAnswer(11, true, [], []),
            new PeerAddresses(["akka.tcp://idos@127.0.0.1:4701", "akka.tcp://idos@10.0.0.7:4702"]),
            SubscribeCommits.Instance,
            new CommitSubscription(true, 42, ""),
            new CommitSubscription(false, 42, "the feed already has 16 subscribers"),
            new CommittedBlock(43, 1_764_640_000_123, 1_764_640_000_456_789, [Block.TransactionHash(hash), _t.Chain.GenesisBlock.Id]),
            new CommittedBlock(44, 0, 0, []),
            SubscribeExecutions.Instance,
            new ExecutedBlock(43, [Block.TransactionHash(hash), _t.Chain.GenesisBlock.Id]),
            new ExecutedBlock(44, []),
            SnapshotOffersQuery.Instance,
            new SnapshotOffers([[1, 2, 3], new byte[300]]),
            new SnapshotOffers([]),
            new SnapshotChunkQuery(10_000, 7),
            new SnapshotChunk(10_000, 7, new byte[1 << 20]),
            new SnapshotChunk(10_000, 8, []),
            new RecentBlocksQuery(0, 20),
            new BlockQuery(43, 100, 100),
            ValidatorsQuery.Instance,
            new RecentBlocksAnswer(44, 43, [Summary(44, 14_864, [0, 1, 3]), Summary(43, null, [])], [Keys(0)]),
            new RecentBlocksAnswer(0, 0, [], []),
            new BlockAnswer(44, 43, Summary(43, 900, [1, 2, 3]),
                [new TransactionSummary(Block.TransactionHash(hash), "main.add_user_as_inserter", 358, 0), new TransactionSummary(_t.Chain.GenesisBlock.Id, null, null, null)],
                [Keys(0), Keys(1)]),
            new BlockAnswer(44, 43, null, [], []),
            new ValidatorsAnswer(44, Keys(1), [44, 0, 43, 44], [1_764_640_000_123, 0, 1_764_640_000_100, 1_764_640_000_123]),
        ];
        Assert.Equal(NodeMessageCodec.Manifests.Order(), messages.Select(NodeMessageCodec.Manifest).Distinct().Order());
        foreach (var message in messages)
        {
            var serializer = Assert.IsType<WireSerializer>(Sys.Serialization.FindSerializerFor(message));
            var bytes = serializer.ToBinary(message);

            var back = Sys.Serialization.Deserialize(bytes, WireSerializer.Id, serializer.Manifest(message));

            Assert.Equal(message.GetType(), back.GetType());
            Assert.Equal(bytes, NodeMessageCodec.Encode((NodeMessage)back));
            Assert.Throws<SerializationException>(() => Sys.Serialization.Deserialize([.. bytes, 0], WireSerializer.Id, serializer.Manifest(message)));
        }
    }

    [Fact]
    public void Explorer_answers_with_more_blocks_sets_or_signers_than_allowed_or_cut_short_do_not_decode()
    {
        var blocks = Enumerable.Range(1, ExplorerMessageCodec.MaxBlocks + 1).Select(h => Summary(h, 1, [0])).ToList();
        Assert.False(Decodes(new RecentBlocksAnswer(60, 60, blocks, [])));
        Assert.True(Decodes(new RecentBlocksAnswer(60, 60, blocks[..ExplorerMessageCodec.MaxBlocks], [])));
        Assert.False(Decodes(new RecentBlocksAnswer(1, 1, [], [.. Enumerable.Range(0, ExplorerMessageCodec.MaxSets + 1).Select(e => Keys(e))])));
        Assert.False(Decodes(new RecentBlocksAnswer(1, 1, [Summary(1, 1, [.. Enumerable.Range(0, ValidatorSet.MaxValidators + 1)])], [])));
        Assert.False(Decodes(new BlockQuery(1, 0, ExplorerMessageCodec.MaxTransactions + 1)));

        var bytes = NodeMessageCodec.Encode(new ValidatorsAnswer(1, Keys(0), [1, 1, 1, 1], [0, 0, 0, 0]));
        // Cut inside the first key (after height, set count, epoch and set size).
        Assert.False(NodeMessageCodec.TryDecode("LW", bytes.AsSpan(0, 8 + 1 + 8 + 2 + 16), ConsensusLimits.Default, out _, out _));
        Assert.True(Decodes(new ValidatorsAnswer(1, new EpochKeys(0, []), [], [])));
    }

    private BlockSummary Summary(long height, int? bytes, int[] signers) =>
        new(height, _t.Chain.GenesisBlock.Id, height + 2, 1_764_640_000_000 + height, 0, (int)(height % 4), 40, bytes, signers);

    private EpochKeys Keys(long epoch) => new(epoch, [.. Enumerable.Range(0, _t.N).Select(i => _t.Chain.Validators[i])]);

    private static bool Decodes(NodeMessage message) =>
        NodeMessageCodec.TryDecode(NodeMessageCodec.Manifest(message), NodeMessageCodec.Encode(message), ConsensusLimits.Default, out _, out _);

    [Fact]
    public void Transaction_batches_and_commit_notices_are_encoded_into_one_allocation_of_their_length()
    {
        var transactions = Enumerable.Range(0, 400).Select(TestChain.Tx).ToList();
        NodeMessage[] bulky =
        [
            new SubmitTransactions(transactions),
            new ForwardedTransactions(transactions),
            new CommittedBlock(43, 1_764_640_000_123, 1_764_640_000_456_789, [.. transactions.Select(t => Block.TransactionHash(t))]),
            new ExecutedBlock(43, [.. transactions.Select(t => Block.TransactionHash(t))]),
        ];
        foreach (var message in bulky)
        {
            var length = NodeMessageCodec.Encode(message).Length;
            var before = GC.GetAllocatedBytesForCurrentThread();
            NodeMessageCodec.Encode(message);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.InRange(allocated, length, length + 100);
        }
    }

    [Fact]
    public void A_submission_with_more_transactions_than_a_block_holds_does_not_decode()
    {
        var limits = ConsensusLimits.Default with { MaxTransactionsPerBlock = 2 };
        var bytes = NodeMessageCodec.Encode(new SubmitTransactions([TestChain.Tx(1), TestChain.Tx(2), TestChain.Tx(3)]));

        Assert.False(NodeMessageCodec.TryDecode("ST", bytes, limits, out _, out var error));
        Assert.Contains("transaction count is 3, above the limit 2", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Garbled_bytes_and_a_wrong_manifest_are_a_serialization_exception_so_remoting_drops_only_that_message()
    {
        var vote = _t.Vote(1, _t.Chain.GenesisBlock.Id, 1);
        var bytes = ConsensusCodec.Encode(vote);

        Assert.Throws<SerializationException>(() => Sys.Serialization.Deserialize(bytes[..^1], WireSerializer.Id, "V"));
        Assert.Throws<SerializationException>(() => Sys.Serialization.Deserialize(bytes, WireSerializer.Id, "P"));
        Assert.Throws<SerializationException>(() => Sys.Serialization.Deserialize(bytes, WireSerializer.Id, "nonsense"));
    }

    [Fact]
    public void A_JSON_payload_naming_a_type_is_refused()
    {
        var json = System.Text.Encoding.UTF8.GetBytes("""{"$type":"System.IO.FileInfo, System.IO.FileSystem","fileName":"/etc/passwd"}""");

        var refused = Assert.Throws<SerializationException>(() => Sys.Serialization.Deserialize(json, 1, "System.IO.FileInfo, System.IO.FileSystem"));

        Assert.Contains("Refusing a JSON payload", refused.Message, StringComparison.Ordinal);

        // The threat is real: with Akka's defaults the same bytes instantiate the type they name.
        using var defaults = global::Akka.Actor.ActorSystem.Create("defaults");
        Assert.IsType<FileInfo>(defaults.Serialization.Deserialize(json, 1, "System.IO.FileInfo, System.IO.FileSystem"));
    }

    [Fact]
    public void A_message_type_without_a_binding_is_never_sent_as_JSON()
    {
        var message = new NotBound("x");

        var refused = Record.Exception(() => Sys.Serialization.FindSerializerFor(message).ToBinary(message));

        Assert.NotNull(refused);
    }

    [Fact]
    public void The_remote_frame_fits_the_largest_message_the_protocol_allows_and_the_socket_buffers_fit_the_frame()
    {
        var config = Sys.Settings.Config;
        var limits = ConsensusSettings.FromConfig(config).Limits;
        var frame = config.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size")!.Value;

        Assert.True(frame >= limits.MaxMessageBytes + 4096, $"frame {frame} < largest message {limits.MaxMessageBytes} + envelope");
        Assert.True(config.GetByteSize("akka.remote.dot-netty.tcp.send-buffer-size") >= frame);
        Assert.True(config.GetByteSize("akka.remote.dot-netty.tcp.receive-buffer-size") >= frame);
    }
}
