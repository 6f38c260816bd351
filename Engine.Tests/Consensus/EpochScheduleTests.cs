using IdOS.Akka.Engine.Consensus;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Consensus;

/// <summary>The sets a chain scheduled: which epoch a height is in, whose vote it takes, and who may connect.</summary>
[Trait("Category", "Unit")]
public sealed class EpochScheduleTests
{
    private static readonly long[] Heights = [1, 29, 30, 59, 60, 1_000];
    private readonly TestChain _five = new(validators: 5);

    private ValidatorSet Set(params int[] indices) => new([.. indices.Select(i => _five.Keys[i].PublicKey)]);

    [Fact]
    public void Heights_belong_to_the_epoch_that_started_at_or_below_them_and_each_epoch_votes_with_its_own_set()
    {
        var genesis = new TestChain(validators: 4).Chain;
        var schedule = new EpochSchedule(genesis, [new ScheduledEpoch(1, 20, 30, Set(0, 1, 2, 3, 4)), new ScheduledEpoch(2, 50, 60, Set(1, 2, 3, 4))]);

        Assert.Equal([0L, 0, 1, 1, 2, 2], Heights.Select(schedule.EpochOf));
        Assert.Equal(1, schedule.EpochAfter(29));
        Assert.Equal(new NextEpoch(30, Set(0, 1, 2, 3, 4).Hash), schedule.Next(0));
        Assert.Null(schedule.Next(2));
        Assert.Equal(5, schedule.Chain(1).Validators.Count);
        Assert.Equal(2, schedule.Chain(2).Epoch);
        Assert.Equal(-1, schedule.IndexOf(0, _five.Keys[4].PublicKey));
        Assert.Equal(4, schedule.IndexOf(1, _five.Keys[4].PublicKey));
        Assert.Equal(-1, schedule.IndexOf(2, _five.Keys[0].PublicKey));
        Assert.Equal(0, schedule.IndexOf(2, _five.Keys[1].PublicKey));
        Assert.Contains(_five.Keys[0].PublicKey, schedule.KeysFrom(1));
        Assert.DoesNotContain(_five.Keys[0].PublicKey, schedule.KeysFrom(2));
        Assert.Contains(_five.Keys[4].PublicKey, schedule.KeysFrom(0));
    }

    [Fact]
    public void A_set_already_known_is_ignored_and_one_out_of_order_refused()
    {
        var schedule = new EpochSchedule(new TestChain(validators: 4).Chain, [new ScheduledEpoch(1, 20, 30, Set(0, 1, 2, 3, 4))]);

        schedule.Add(new ScheduledEpoch(1, 20, 30, Set(0, 1, 2, 3, 4)));

        Assert.Equal(2, schedule.Count);
        Assert.Throws<ArgumentException>(() => schedule.Add(new ScheduledEpoch(3, 40, 50, Set(0, 1, 2, 3))));
        Assert.Throws<ArgumentException>(() => schedule.Add(new ScheduledEpoch(2, 25, 30, Set(0, 1, 2, 3))));
        Assert.Throws<ArgumentException>(() => schedule.Add(new ScheduledEpoch(2, 45, 45, Set(0, 1, 2, 3))));
    }
}
