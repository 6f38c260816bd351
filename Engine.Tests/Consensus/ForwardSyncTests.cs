using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Simulation;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Consensus;

/// <summary>
/// Catching up by height: a validator far behind the certificates it sees fetches committed blocks in ranges from
/// several peers, however far behind (past the 4,096 blocks walking back could hold), and commits exactly the chain's
/// blocks; a range that lies, or that nobody holds any more, is told apart.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ForwardSyncTests
{
    private const long Now = 1_000;
    private readonly TestChain _t = new();

    [Fact]
    public void A_validator_5000_blocks_behind_catches_up_in_ranges_from_every_peer_and_commits_the_chains_blocks()
    {
        var chain = Chain(5_000);
        var store = new SimBlockStore();
        var replica = _t.Replica(3, store: store);
        replica.Start(Now);
        var asked = new HashSet<int>();

        var requests = Ranges(replica.OnMessage(new PeerId(0), new RoundSync(_t.QcFor(chain[^1]), null), Now));
        Assert.Equal(4, requests.Count);
        Assert.Equal([1L, 65, 129, 193], requests.Select(r => r.Request.FromHeight));
        for (var steps = 0; requests.Count > 0 && steps < 1_000; steps++)
        {
            var (to, request) = requests[0];
            requests.RemoveAt(0);
            asked.Add(to);
            var answer = BlockServing.AnswerRange(request, _t.Chain.Limits, chain.Count, () => 0, height => height <= chain.Count ? chain[(int)height - 1] : null);
            var effects = replica.OnMessage(new PeerId(to), answer, Now);
            Assert.Empty(effects.OfType<MessageRejected>());
            requests.AddRange(Ranges(effects));
        }

        // The last two blocks wait for the round after them: the two-chain rule needs the QC of a child's child.
        Assert.Equal(chain.Count - 2, store.Height);
        Assert.All(Enumerable.Range(1, (int)store.Height), height => Assert.Equal(chain[height - 1].Id, store.GetByHeight(height)!.Id));
        Assert.Equal([0, 1, 2], asked.Order());
    }

    [Fact]
    public void A_range_whose_qc_does_not_verify_is_refused_its_sender_rejected_and_the_ranges_asked_again_from_the_committed_height()
    {
        var chain = Chain(300);
        var forgedQc = _t.QcFor(chain[9]) with { Signatures = [.. _t.QcFor(chain[9]).Signatures.Select(s => s.Select(b => (byte)(b ^ 1)).ToArray())] };
        var forged = Engine.Consensus.Block.Create(chain[10].Round, 11, forgedQc, chain[10].Header.Proposer, chain[10].Header.Timestamp, [], 0,
            _t.Chain.GenesisAppHash);
        var store = new SimBlockStore();
        var replica = _t.Replica(3, store: store);
        replica.Start(Now);
        var first = Ranges(replica.OnMessage(new PeerId(0), new RoundSync(_t.QcFor(chain[^1]), null), Now))[0];

        var effects = replica.OnMessage(new PeerId(first.To), new BlockRangeResponse(1, 0, [.. chain.Take(10), forged]), Now);

        Assert.Contains(effects.OfType<MessageRejected>(), r => r.Reason.Contains("block range from height 1", StringComparison.Ordinal));
        Assert.True(store.Height < 10, $"committed {store.Height}");
        Assert.Equal(store.Height + 1, Ranges(effects).Select(r => r.Request.FromHeight).Min());
    }

    [Fact]
    public void A_range_from_a_validator_not_asked_or_not_a_chain_of_heights_is_not_taken()
    {
        var chain = Chain(300);
        var store = new SimBlockStore();
        var replica = _t.Replica(3, store: store);
        replica.Start(Now);
        var first = Ranges(replica.OnMessage(new PeerId(0), new RoundSync(_t.QcFor(chain[^1]), null), Now))[0];
        var other = (first.To + 1) % 3;

        Assert.Empty(replica.OnMessage(new PeerId(other), new BlockRangeResponse(1, 0, [.. chain.Take(64)]), Now).OfType<MessageRejected>());
        Assert.Equal(0, store.Height);
        var gap = replica.OnMessage(new PeerId(first.To), new BlockRangeResponse(1, 0, [chain[0], chain[2]]), Now);

        Assert.Contains(gap.OfType<MessageRejected>(), r => r.Reason.Contains("not a chain of consecutive heights", StringComparison.Ordinal));
        Assert.Equal(0, store.Height);
    }

    [Fact]
    public void When_every_other_validator_has_pruned_the_next_body_the_replica_says_only_a_snapshot_can_help()
    {
        var chain = Chain(300);
        var replica = _t.Replica(3);
        replica.Start(Now);
        var (to, request) = Ranges(replica.OnMessage(new PeerId(0), new RoundSync(_t.QcFor(chain[^1]), null), Now))[0];
        var effects = new List<ReplicaEffect>();

        for (var answers = 0; answers < 3; answers++)
        {
            effects = [.. replica.OnMessage(new PeerId(to), new BlockRangeResponse(request.FromHeight, 200, []), Now)];
            if (Ranges(effects).FirstOrDefault(r => r.Request.FromHeight == request.FromHeight) is { Request: not null } next)
            {
                to = next.To;
            }
        }

        var blocked = Assert.Single(effects.OfType<CatchUpNeedsSnapshot>());
        Assert.Equal((1L, 200L), (blocked.NextHeight, blocked.PrunedHeight));
    }

    /// <summary>A chain of <paramref name="length"/> blocks in consecutive rounds, each certified by the next one's QC.</summary>
    private List<Block> Chain(int length)
    {
        var blocks = new List<Block>(length);
        var parent = _t.Chain.GenesisBlock;
        for (var round = 1; round <= length; round++)
        {
            var block = round == 1 ? _t.Block(1, parent, _t.Chain.GenesisQc) : _t.Block(round, parent);
            blocks.Add(block);
            parent = block;
        }

        return blocks;
    }

    private static List<(int To, BlockRangeRequest Request)> Ranges(IEnumerable<ReplicaEffect> effects) =>
        [.. effects.OfType<SendToValidator>().Where(s => s.Message is BlockRangeRequest).Select(s => (s.Validator, (BlockRangeRequest)s.Message))];
}
