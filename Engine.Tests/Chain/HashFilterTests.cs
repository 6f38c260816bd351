using IdOS.Akka.Engine.Chain;
using IdOS.Akka.Engine.Crypto;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Chain;

[Trait("Category", "Unit")]
public sealed class HashFilterTests
{
    [Fact]
    public void Every_added_hash_is_reported_and_few_others_are()
    {
        var filter = new HashFilter(1 << 16);
        var added = Enumerable.Range(0, 4_000).Select(i => Hash32.Compute(BitConverter.GetBytes(i))).ToList();
        added.ForEach(filter.Add);

        Assert.All(added, h => Assert.True(filter.MayContain(h)));
        var falsePositives = Enumerable.Range(100_000, 10_000).Count(i => filter.MayContain(Hash32.Compute(BitConverter.GetBytes(i))));
        Assert.True(falsePositives < 300, $"{falsePositives} of 10,000 absent hashes reported present");
    }

    [Fact]
    public void At_the_default_load_about_one_percent_of_absent_hashes_pass()
    {
        // The default's 14 million hashes in 2^27 bits, scaled down 128 times to keep the test short.
        var filter = new HashFilter(HashFilter.DefaultBits / 128);
        for (var i = 0; i < 14_000_000 / 128; i++)
        {
            filter.Add(Hash32.Compute(BitConverter.GetBytes(i)));
        }

        var falsePositives = Enumerable.Range(-20_000, 20_000).Count(i => filter.MayContain(Hash32.Compute(BitConverter.GetBytes(i))));
        Assert.InRange(falsePositives, 1, 300);
    }

    [Fact]
    public void Asked_for_a_batch_it_answers_each_hash_as_when_asked_alone()
    {
        // A small filter, so that the batch holds false positives as well as true and false answers.
        var filter = new HashFilter(1 << 12);
        var added = Enumerable.Range(0, 600).Select(i => Hash32.Compute(BitConverter.GetBytes(i))).ToList();
        added.ForEach(filter.Add);
        Hash32[] batch = [.. added.Take(300), .. Enumerable.Range(10_000, 700).Select(i => Hash32.Compute(BitConverter.GetBytes(i)))];

        var maybe = new bool[batch.Length];
        filter.MayContainAll(batch, maybe);

        Assert.Equal(batch.Select(filter.MayContain), maybe);
        Assert.All(maybe.Take(300), Assert.True);
        Assert.Contains(false, maybe);
        Assert.Contains(true, maybe.Skip(300));
    }

    [Fact]
    public void A_size_that_is_not_a_power_of_two_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new HashFilter(1000));
}
