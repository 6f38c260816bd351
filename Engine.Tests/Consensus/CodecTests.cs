using System.Security.Cryptography;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Consensus;

[Trait("Category", "Unit")]
public sealed class CodecTests
{
    private readonly TestChain _t = new();

    private static readonly string[] Kinds = ["proposal", "proposal-with-tc", "proposal-with-failed-proposers", "vote", "timeout", "timeout-with-tc", "round-sync", "round-sync-with-tc", "request", "response",
        "proposal-opening-epoch", "epoch-end", "epoch-end-request"];

    public static TheoryData<string> MessageKinds => new(Kinds);

    private ConsensusMessage Sample(string kind)
    {
        var genesis = _t.Chain.GenesisBlock;
        var b1 = _t.Block(1, genesis, _t.Chain.GenesisQc, [TestChain.Tx(1), TestChain.Tx(2)]);
        var b3 = _t.Block(3, b1, _t.QcFor(b1));
        return kind switch
        {
            "proposal" => _t.Propose(b1),
            "proposal-with-tc" => _t.Propose(b3, _t.Tc(2, 1)),
            "proposal-with-failed-proposers" => _t.Propose(Block.FromParts(b3.Header with { FailedProposers = SignerBitmap.Create(_t.N, [2]) }, b3.Transactions), _t.Tc(2, 1)),
            "vote" => _t.Vote(2, b1.Id, 1),
            "timeout" => _t.Timeout(1, 2, _t.QcFor(b1)),
            "timeout-with-tc" => _t.Timeout(1, 3, _t.QcFor(b1)) with { LastRoundTc = _t.Tc(2, 1) },
            "round-sync" => new RoundSync(_t.QcFor(b1), null),
            "round-sync-with-tc" => new RoundSync(_t.QcFor(b1), _t.Tc(2, 1)),
            "request" => new BlockRequest(b1.Id, 0, 64),
            "response" => new BlockResponse(b3.Id, [b3, b1]),
            "proposal-opening-epoch" => _t.Propose(b1) with { OpeningProof = new EpochProof([Beyond(b3)], _t.QcFor(Beyond(b3))) },
            "epoch-end" => new EpochEnd(new EpochProof([Beyond(b3), b1], _t.QcFor(b1))),
            "epoch-end-request" => new EpochEndRequest(2),
            _ => throw new ArgumentException(kind),
        };
    }

    [Theory]
    [MemberData(nameof(MessageKinds))]
    public void Every_message_decodes_to_what_re_encodes_to_the_same_bytes(string kind)
    {
        var bytes = ConsensusCodec.Encode(Sample(kind));

        Assert.True(ConsensusCodec.TryDecode(bytes, ConsensusLimits.Default, out var decoded, out var error), error);
        Assert.Equal(bytes, ConsensusCodec.Encode(decoded));
    }

    /// <summary>
    /// The encoder sizes the message before writing it, so the bytes are allocated once: what it allocates is the
    /// message and the writer (~60 bytes of headers), where a second copy would add the whole length again.
    /// </summary>
    [Theory]
    [MemberData(nameof(MessageKinds))]
    public void Every_message_is_encoded_into_one_allocation_of_its_length(string kind)
    {
        var message = Sample(kind);
        var length = ConsensusCodec.Encode(message).Length;

        var before = GC.GetAllocatedBytesForCurrentThread();
        var bytes = ConsensusCodec.Encode(message);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(length, bytes.Length);
        Assert.InRange(allocated, length, length + 100);
    }

    [Fact]
    public void A_header_is_encoded_into_one_allocation_of_its_length()
    {
        var header = _t.Block(3, _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc)).Header;
        var length = ConsensusCodec.EncodeHeader(header).Length;

        var before = GC.GetAllocatedBytesForCurrentThread();
        ConsensusCodec.EncodeHeader(header);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.InRange(allocated, length, length + 100);
    }

    [Theory]
    [MemberData(nameof(MessageKinds))]
    public void Every_truncation_and_every_trailing_byte_is_rejected_with_a_reason(string kind)
    {
        var bytes = ConsensusCodec.Encode(Sample(kind));
        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.False(ConsensusCodec.TryDecode(bytes.AsSpan(0, length), ConsensusLimits.Default, out _, out var error));
            Assert.False(string.IsNullOrEmpty(error));
        }

        Assert.False(ConsensusCodec.TryDecode([.. bytes, 0], ConsensusLimits.Default, out _, out var trailing));
        Assert.Contains("trailing", trailing, StringComparison.Ordinal);
    }

    [Fact]
    public void A_decoded_block_keeps_its_id()
    {
        var proposal = (Proposal)Sample("proposal");

        ConsensusCodec.TryDecode(ConsensusCodec.Encode(proposal), ConsensusLimits.Default, out var decoded, out _);

        Assert.Equal(proposal.Block.Id, ((Proposal)decoded!).Block.Id);
        Assert.True(((Proposal)decoded).Block.BodyMatchesHeader());
    }

    /// <summary>
    /// Headers that name their set are versions 3 and 4, those that name failed proposers 2 and 4, so that a block
    /// stored before either field existed keeps its id; a second encoding of a header (version 4 without failed
    /// proposers, version 3 with a zero set hash) is refused.
    /// </summary>
    private static Block Beyond(Block block) =>
        Block.FromParts(block.Header with { NextSetHash = Hash32.Compute("the next set"u8) }, block.Transactions);

    /// <summary>The blocks past an epoch's end name the next set as well: versions 5 and 6, again one encoding each.</summary>
    [Fact]
    public void A_header_past_an_epochs_end_names_the_next_set_in_versions_5_and_6()
    {
        var plain = Beyond(((Proposal)Sample("proposal")).Block);
        var failed = Beyond(((Proposal)Sample("proposal-with-failed-proposers")).Block);
        Assert.Equal(5, ConsensusCodec.EncodeHeader(plain.Header)[0]);
        Assert.Equal(6, ConsensusCodec.EncodeHeader(failed.Header)[0]);
        Assert.True(ConsensusCodec.TryDecodeBlock(ConsensusCodec.EncodeBlock(failed), ConsensusLimits.Default, out var decoded, out var error), error);
        Assert.Equal((failed.Id, failed.Header.NextSetHash), (decoded.Id, decoded.Header.NextSetHash));
        Assert.Throws<ArgumentException>(() => ConsensusCodec.EncodeHeader(plain.Header with { SetHash = Hash32.Zero }));

        var header = ConsensusCodec.EncodeHeader(plain.Header);
        var body = ConsensusCodec.EncodeBlock(plain)[header.Length..];
        byte[] zeroNext = [.. header[..^Hash32.Size], .. new byte[Hash32.Size], .. body];
        Assert.False(ConsensusCodec.TryDecodeBlock(zeroNext, ConsensusLimits.Default, out _, out var zero));
        Assert.Contains("zero next set hash", zero, StringComparison.Ordinal);
        byte[] version7 = [7, .. header[1..], .. body];
        Assert.False(ConsensusCodec.TryDecodeBlock(version7, ConsensusLimits.Default, out _, out var unknown));
        Assert.Contains("unknown block header version 7", unknown, StringComparison.Ordinal);
    }

    [Fact]
    public void An_epoch_transition_names_one_to_1024_distinct_keys()
    {
        var b1 = _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc);
        var next = _t.InEpoch(1, 1, 2, 3, 4).Chain.Validators;
        var beyond = _t.Block(2, b1, nextSetHash: next.Hash);
        var response = new HeaderRangeResponse(1, [new PrunedBlock(b1.Header, [])]) { Transition = new EpochTransition(new EpochProof([beyond], _t.QcFor(beyond)), next) };
        var bytes = ConsensusCodec.Encode(response);
        var keys = bytes.Length - (4 * 32);

        Assert.True(ConsensusCodec.TryDecode(bytes, ConsensusLimits.Default, out var decoded, out var error), error);
        Assert.Equal(next.Hash, ((HeaderRangeResponse)decoded).Transition!.NextSet.Hash);
        byte[] twice = [.. bytes[..(keys + 32)], .. bytes[keys..(keys + 32)], .. bytes[(keys + 64)..]];
        Assert.False(ConsensusCodec.TryDecode(twice, ConsensusLimits.Default, out _, out var duplicate));
        Assert.Contains("names a validator twice", duplicate, StringComparison.Ordinal);
        byte[] none = [.. bytes[..(keys - 2)], 0, 0];
        Assert.False(ConsensusCodec.TryDecode(none, ConsensusLimits.Default, out _, out var empty));
        Assert.Contains("1 to 1024", empty, StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_names_its_set_in_versions_3_and_4_failed_proposers_in_2_and_4_and_each_has_one_encoding()
    {
        var plain = ((Proposal)Sample("proposal")).Block;
        var named = ((Proposal)Sample("proposal-with-failed-proposers")).Block;
        var legacy = plain.Header with { SetHash = Hash32.Zero };
        Assert.Equal(3, ConsensusCodec.EncodeHeader(plain.Header)[0]);
        Assert.Equal(4, ConsensusCodec.EncodeHeader(named.Header)[0]);
        Assert.Equal(1, ConsensusCodec.EncodeHeader(legacy)[0]);
        Assert.Equal(2, ConsensusCodec.EncodeHeader(legacy with { FailedProposers = named.Header.FailedProposers })[0]);
        Assert.True(ConsensusCodec.TryDecodeBlock(ConsensusCodec.EncodeBlock(named), ConsensusLimits.Default, out var decoded, out var error), error);
        Assert.Equal(named.Id, decoded.Id);
        Assert.Equal(named.Header.SetHash, decoded.Header.SetHash);
        Assert.Equal(2, Assert.Single(SignerBitmap.Signers(decoded.Header.FailedProposers)));

        var header = ConsensusCodec.EncodeHeader(plain.Header);
        var body = ConsensusCodec.EncodeBlock(plain)[header.Length..];
        byte[] emptyVersion4 = [4, .. header[1..], 0, 0, .. body];
        byte[] zeroSet = [.. header[..^Hash32.Size], .. new byte[Hash32.Size], .. body];

        Assert.False(ConsensusCodec.TryDecodeBlock(emptyVersion4, ConsensusLimits.Default, out _, out var refused));
        Assert.Contains("without failed proposers", refused, StringComparison.Ordinal);
        Assert.False(ConsensusCodec.TryDecodeBlock(zeroSet, ConsensusLimits.Default, out _, out var zero));
        Assert.Contains("zero set hash", zero, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_version_tag_and_bad_boolean_are_rejected()
    {
        var vote = ConsensusCodec.Encode(Sample("vote"));
        var proposal = ConsensusCodec.Encode(Sample("proposal"));

        Assert.False(ConsensusCodec.TryDecode([2, .. vote[1..]], ConsensusLimits.Default, out _, out var version));
        Assert.Contains("version", version, StringComparison.Ordinal);
        Assert.False(ConsensusCodec.TryDecode([1, 99, .. vote[2..]], ConsensusLimits.Default, out _, out var tag));
        Assert.Contains("tag", tag, StringComparison.Ordinal);
        var badBool = proposal.ToArray();
        badBool[^1] = 7;
        Assert.False(ConsensusCodec.TryDecode(badBool, ConsensusLimits.Default, out _, out var boolean));
        Assert.Contains("boolean", boolean, StringComparison.Ordinal);
    }

    [Fact]
    public void Counts_above_the_limits_are_refused_before_anything_is_allocated()
    {
        var limits = ConsensusLimits.Default with { MaxTransactionsPerBlock = 1, MaxBlocksPerResponse = 1 };

        Assert.False(ConsensusCodec.TryDecode(ConsensusCodec.Encode(Sample("proposal")), limits, out _, out var txs));
        Assert.Contains("transaction count", txs, StringComparison.Ordinal);
        Assert.False(ConsensusCodec.TryDecode(ConsensusCodec.Encode(Sample("response")), limits, out _, out var blocks));
        Assert.Contains("block response holds 2 blocks", blocks, StringComparison.Ordinal);
        Assert.False(ConsensusCodec.TryDecode(new byte[limits.MaxMessageBytes + 1], limits, out _, out var size));
        Assert.Contains("exceeds the limit", size, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_bytes_and_random_mutations_never_throw()
    {
        var rng = new Engine.Simulation.SimRandom(7);
        var samples = Kinds.Select(k => ConsensusCodec.Encode(Sample(k))).ToList();
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = rng.Pick(samples).ToArray();
            for (var flips = 1 + rng.Next(4); flips > 0; flips--)
            {
                bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
            }

            if (ConsensusCodec.TryDecode(bytes, ConsensusLimits.Default, out var message, out _))
            {
                ConsensusCodec.Encode(message);
            }
        }
    }

    [Fact]
    public void Safety_state_round_trips_with_its_last_vote_and_timeout()
    {
        var b1 = _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc);
        var state = new SafetyState(7, _t.QcFor(b1), _t.Vote(0, b1.Id, 1), _t.Timeout(0, 7, _t.QcFor(b1)));

        var bytes = ConsensusCodec.EncodeSafetyState(state);

        Assert.True(ConsensusCodec.TryDecodeSafetyState(bytes, ConsensusLimits.Default, out var decoded, out var error), error);
        Assert.Equal(bytes, ConsensusCodec.EncodeSafetyState(decoded));
        Assert.False(ConsensusCodec.TryDecodeSafetyState(bytes.AsSpan(0, bytes.Length - 1), ConsensusLimits.Default, out _, out _));
    }

    /// <summary>A later epoch's state names its epoch (version 2); genesis's keeps version 1, which journals written before epochs hold.</summary>
    [Fact]
    public void Safety_state_of_a_later_epoch_round_trips_with_its_epoch_and_genesiss_keeps_version_1()
    {
        var b1 = _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc);
        var opening = SafetyState.OpeningEpoch(3, _t.QcFor(b1), 9);

        var bytes = ConsensusCodec.EncodeSafetyState(opening);

        Assert.Equal(2, bytes[0]);
        Assert.Equal(1, ConsensusCodec.EncodeSafetyState(SafetyState.Initial(_t.Chain))[0]);
        Assert.True(ConsensusCodec.TryDecodeSafetyState(bytes, ConsensusLimits.Default, out var decoded, out var error), error);
        Assert.Equal((3L, 9L, (Vote?)null), (decoded.Epoch, decoded.LastVotedRound, decoded.LastVote));
        Assert.Equal(bytes, ConsensusCodec.EncodeSafetyState(decoded));
        byte[] epochZero = [2, .. ConsensusCodec.EncodeSafetyState(SafetyState.Initial(_t.Chain))[1..], .. new byte[8]];
        Assert.False(ConsensusCodec.TryDecodeSafetyState(epochZero, ConsensusLimits.Default, out _, out var refused));
        Assert.Contains("epoch 0", refused, StringComparison.Ordinal);
    }

    /// <summary>Freezes the signing bytes: a change here breaks every signature ever made, so it must be deliberate.</summary>
    [Fact]
    public void Vote_signing_bytes_are_fixed()
    {
        var blockId = new Hash32(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());

        var bytes = new SigningDomain("idos-1").Vote(blockId, 258);

        Assert.Equal(
            "0011" + Convert.ToHexStringLower("idos-akka/vote/v1"u8) + "0006" + Convert.ToHexStringLower("idos-1"u8)
            + "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" + "0000000000000102",
            Convert.ToHexStringLower(bytes));
    }

    [Fact]
    public void Merkle_root_separates_leaves_from_nodes_and_depends_on_order()
    {
        var a = Hash32.Compute("a"u8);
        var b = Hash32.Compute("b"u8);
        var c = Hash32.Compute("c"u8);

        Assert.NotEqual(MerkleTree.Root([a, b]), MerkleTree.Root([b, a]));
        Assert.NotEqual(MerkleTree.Root([a, b, c]), MerkleTree.Root([a, b]));
        Assert.NotEqual(MerkleTree.Root([a]), a);
        Assert.Equal(Hash32.Compute([]), MerkleTree.Root([]));
    }

    [Fact]
    public void Merkle_root_groups_sixteen_nodes_per_level_with_the_level_as_prefix()
    {
        var leaves = Enumerable.Range(0, 17).Select(i => Hash32.Compute(BitConverter.GetBytes(i))).ToArray();
        static Hash32 Node(byte level, IEnumerable<Hash32> children) =>
            new(SHA256.HashData([level, .. children.SelectMany(c => c.ToArray())]));

        var firstSixteen = Node(0, leaves[..16]);
        Assert.Equal(firstSixteen, MerkleTree.Root(leaves[..16]));
        Assert.Equal(Node(1, [firstSixteen, Node(0, leaves[16..])]), MerkleTree.Root(leaves));

        var changed = leaves.ToArray();
        changed[16] = Hash32.Compute("other"u8);
        Assert.NotEqual(MerkleTree.Root(leaves), MerkleTree.Root(changed));
    }
}
