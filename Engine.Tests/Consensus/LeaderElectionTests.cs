using IdOS.Akka.Engine.Consensus;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Consensus;

[Trait("Category", "Unit")]
public sealed class LeaderElectionTests
{
    private static readonly LeaderReputationPolicy Policy = LeaderReputationPolicy.For(4);
    private readonly TestChain _t = new();

    [Fact]
    public void Leaders_rotate_until_the_window_has_history_and_when_reputation_is_off()
    {
        var election = new LeaderElection(_t.Chain.Validators, Policy);
        var off = new LeaderElection(_t.Chain.Validators, LeaderReputationPolicy.Off);
        var chain = Chain(Policy.WindowBlocks - 1, proposers: _ => 3, signers: _ => [0, 1, 2]);
        foreach (var block in chain)
        {
            election.Record(block);
            off.Record(block);
        }

        for (long round = 1; round < 200; round++)
        {
            Assert.Equal(_t.Chain.Validators.LeaderOf(round), election.LeaderOf(round));
        }

        chain = Chain(100, proposers: _ => 0, signers: _ => [0, 1, 2]);
        foreach (var block in chain)
        {
            off.Record(block);
        }

        Assert.Equal(Enumerable.Range(1, 300).Select(r => _t.Chain.Validators.LeaderOf(r)), Enumerable.Range(1, 300).Select(r => off.LeaderOf(r)));
    }

    [Fact]
    public void A_validator_missing_from_the_window_almost_never_leads_and_the_others_share_the_rounds()
    {
        var election = Elect(Chain(40, proposers: h => (int)(h % 3), signers: _ => [0, 1, 2]));
        var rounds = Enumerable.Range(41 + Policy.ExcludeRounds, 3_000).Select(r => election.LeaderOf(r)).ToList();

        Assert.True(rounds.Count(l => l == 3) <= 3, $"the validator that took no part led {rounds.Count(l => l == 3)} of 3,000 rounds");
        for (var v = 0; v < 3; v++)
        {
            Assert.InRange(rounds.Count(l => l == v), 850, 1_150);
        }

        Assert.False(election.IsActive(3));
        Assert.True(election.IsActive(0));
        Assert.Equal([LeaderReputationPolicy.ActiveWeight, LeaderReputationPolicy.ActiveWeight, LeaderReputationPolicy.ActiveWeight, LeaderReputationPolicy.InactiveWeight],
            election.Weights()!);
    }

    [Fact]
    public void A_validator_leads_again_once_its_votes_are_in_the_window()
    {
        var blocks = Chain(40, proposers: h => (int)(h % 3), signers: h => h <= 36 ? [0, 1, 2] : [1, 2, 3]);
        var election = Elect(blocks);

        var rounds = Enumerable.Range(41 + Policy.ExcludeRounds, 2_000).Select(r => election.LeaderOf(r)).ToList();
        Assert.InRange(rounds.Count(l => l == 3), 400, 600);
        Assert.True(election.IsActive(3));
    }

    [Fact]
    public void Every_validator_that_commits_the_same_blocks_computes_the_same_leaders_whatever_it_held_before()
    {
        var blocks = Chain(120, proposers: h => (int)(h * 7 % 4), signers: h => h % 5 == 0 ? [0, 2, 3] : [0, 1, 2]);
        var fromGenesis = Elect(blocks);
        var restarted = Elect(blocks.Skip(120 - fromGenesis.HistoryBlocks));

        // What a validator asks about: rounds from its committed root on.
        var rounds = Enumerable.Range(119, 200).Select(r => (long)r).ToList();
        Assert.Equal(rounds.Select(fromGenesis.LeaderOf), rounds.Select(restarted.LeaderOf));
        Assert.NotEqual(rounds.Select(r => _t.Chain.Validators.LeaderOf(r)), rounds.Select(fromGenesis.LeaderOf));
    }

    [Fact]
    public void A_round_is_settled_once_a_block_after_its_anchor_is_committed_and_commits_move_only_later_rounds()
    {
        var blocks = Chain(30, proposers: h => (int)(h % 4), signers: _ => [0, 1, 2]);
        var election = Elect(blocks.Take(29));
        var last = blocks[28].Round;

        Assert.True(election.IsSettled(last + Policy.ExcludeRounds - 1));
        Assert.False(election.IsSettled(last + Policy.ExcludeRounds));
        var before = Enumerable.Range((int)last, 40).Select(r => election.LeaderOf(r)).ToList();

        election.Record(blocks[29]);
        var after = Enumerable.Range((int)last, 40).Select(r => election.LeaderOf(r)).ToList();
        Assert.Equal(before.Take(Policy.ExcludeRounds + 1), after.Take(Policy.ExcludeRounds + 1));
        Assert.NotEqual(before, after);
    }

    [Fact]
    public void A_validator_a_block_behind_finds_the_leader_of_one_a_block_ahead_among_the_plausible_ones()
    {
        var blocks = Chain(40, proposers: h => (int)(h % 4), signers: h => h % 3 == 0 ? [1, 2, 3] : [0, 1, 2]);
        var ahead = Elect(blocks);
        var behind = Elect(blocks.Take(39));
        var rounds = Enumerable.Range(40 + Policy.ExcludeRounds, 200).Select(r => (long)r).ToList();

        Assert.Contains(rounds, r => ahead.LeaderOf(r) != behind.LeaderOf(r));
        Assert.All(rounds, r => Assert.False(behind.IsSettled(r)));
        Assert.All(rounds, r => Assert.Contains(ahead.LeaderOf(r), behind.PlausibleLeaders(r, [blocks[39]])));
        Assert.All(rounds, r => Assert.Contains(behind.LeaderOf(r), ahead.PlausibleLeaders(r, [])));
    }

    /// <summary>
    /// A validator that votes but whose round produced no block (proposals refused for a clock ahead, say) is named
    /// as a failed proposer: it leads rarely while the window holds that, more often than one that is down, and
    /// shares the rounds again once the window has moved past it.
    /// </summary>
    [Fact]
    public void A_validator_named_as_a_failed_proposer_leads_rarely_until_the_window_moves_past_it()
    {
        var blocks = Chain(40, proposers: h => (int)(h % 3), signers: h => h % 2 == 0 ? [1, 2, 3] : [0, 2, 3], failed: h => h == 38 ? [2] : []);
        var election = Elect(blocks.Take(39));
        var rounds = Enumerable.Range(40 + Policy.ExcludeRounds, 3_000).Select(r => election.LeaderOf(r)).ToList();

        Assert.InRange(rounds.Count(l => l == 2), 1, 40);
        Assert.True(election.IsActive(2));

        var moved = Elect(Chain(60, proposers: h => (int)(h % 3), signers: h => h % 2 == 0 ? [1, 2, 3] : [0, 2, 3], failed: h => h == 38 ? [2] : []));
        var later = Enumerable.Range(61 + Policy.ExcludeRounds, 3_000).Select(r => moved.LeaderOf(r)).ToList();
        Assert.All(Enumerable.Range(0, 4), v => Assert.InRange(later.Count(l => l == v), 600, 900));
    }

    [Fact]
    public void A_block_names_the_leaders_of_the_rounds_its_chain_skipped_as_every_validator_computes_them()
    {
        var blocks = Chain(40, proposers: h => (int)(h % 4), signers: h => h % 3 == 0 ? [1, 2, 3] : [0, 1, 2]);
        var committed = Elect(blocks.Take(38));
        var fromPath = Elect(blocks.Take(30));
        var parent = blocks[37];

        Assert.Empty(committed.FailedProposers(parent.Round, parent.Round + 1, []));
        var named = committed.FailedProposers(parent.Round, parent.Round + 4, []);
        var skipped = Enumerable.Range(1, 3).Select(i => committed.LeaderOf(parent.Round + i)).ToHashSet();
        Assert.Equal(skipped.Order(), SignerBitmap.Signers(named));
        Assert.Equal(named, fromPath.FailedProposers(parent.Round, parent.Round + 4, blocks[30..38]));

        var afterStall = committed.FailedProposers(parent.Round, parent.Round + 1_000, []);
        var lastRounds = Enumerable.Range(1_000 - LeaderReputationPolicy.MaxFailedRounds, LeaderReputationPolicy.MaxFailedRounds)
            .Select(i => Elect(blocks.Take(38)).LeaderOf(parent.Round + i)).ToHashSet();
        Assert.Equal(lastRounds.Order(), SignerBitmap.Signers(afterStall));
    }

    [Fact]
    public void A_policy_outside_its_bounds_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new LeaderElection(_t.Chain.Validators, new LeaderReputationPolicy(8, 1)));
        Assert.Throws<ArgumentException>(() => new LeaderElection(_t.Chain.Validators, new LeaderReputationPolicy(LeaderReputationPolicy.MaxWindowBlocks + 1, 6)));
        Assert.Throws<ArgumentException>(() => new LeaderElection(_t.Chain.Validators, new LeaderReputationPolicy(0, 6)));
    }

    private LeaderElection Elect(IEnumerable<Block> blocks)
    {
        var election = new LeaderElection(_t.Chain.Validators, Policy);
        foreach (var block in blocks)
        {
            election.Record(block);
        }

        return election;
    }

    /// <summary>Committed blocks of consecutive rounds from genesis, each QC signed by the given validators.</summary>
    private List<Block> Chain(int length, Func<long, int> proposers, Func<long, int[]> signers, Func<long, int[]>? failed = null)
    {
        var blocks = new List<Block>();
        var parent = _t.Chain.GenesisBlock;
        for (long height = 1; height <= length; height++)
        {
            var justify = height == 1 ? _t.Chain.GenesisQc : _t.QcFor(parent, signers(height));
            parent = _t.Block(height, parent, justify, proposer: proposers(height));
            if (failed?.Invoke(height) is { Length: > 0 } named)
            {
                parent = Block.FromParts(parent.Header with { FailedProposers = SignerBitmap.Create(_t.N, named) }, parent.Transactions);
            }

            blocks.Add(parent);
        }

        return blocks;
    }
}
