using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Simulation;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Crypto;

/// <summary>The cache changes what a verdict costs, never what it is.</summary>
[Trait("Category", "Unit")]
public sealed class VerifiedSignatureCacheTests
{
    private readonly Ed25519PrivateKey _key = SimWorld.ValidatorKey(0);

    [Fact]
    public void Each_triple_is_verified_once_whatever_its_verdict()
    {
        var counting = new CountingVerifier();
        var cache = new VerifiedSignatureCache(counting);
        var good = _key.Sign("message"u8);
        var bad = SimWorld.ValidatorKey(1).Sign("message"u8);

        Assert.True(cache.Verify(_key.PublicKey, "message"u8, good));
        Assert.True(cache.Verify(_key.PublicKey, "message"u8, good));
        Assert.False(cache.Verify(_key.PublicKey, "message"u8, bad));
        Assert.False(cache.Verify(_key.PublicKey, "message"u8, bad));
        Assert.False(cache.Verify(_key.PublicKey, "other message"u8, good));
        Assert.False(cache.Verify(SimWorld.ValidatorKey(1).PublicKey, "message"u8, good));

        Assert.Equal(4, counting.Calls);
        Assert.Equal(2, cache.Hits);
        Assert.Equal(4, cache.Misses);
    }

    [Fact]
    public void A_flood_of_forgeries_does_not_push_out_what_was_accepted()
    {
        var counting = new CountingVerifier();
        var cache = new VerifiedSignatureCache(counting, capacity: 4);
        var good = _key.Sign("message"u8);
        Assert.True(cache.Verify(_key.PublicKey, "message"u8, good));

        for (var i = 0; i < 100; i++)
        {
            Assert.False(cache.Verify(_key.PublicKey, BitConverter.GetBytes(i), good));
        }

        Assert.True(cache.Verify(_key.PublicKey, "message"u8, good));
        Assert.Equal(101, counting.Calls);
    }

    [Fact]
    public void When_the_newer_generation_fills_the_older_is_forgotten()
    {
        var counting = new CountingVerifier();
        var cache = new VerifiedSignatureCache(counting, capacity: 2);
        var messages = Enumerable.Range(0, 5).Select(i => new[] { (byte)i }).ToArray();
        var signatures = messages.Select(m => _key.Sign(m)).ToArray();
        for (var i = 0; i < messages.Length; i++)
        {
            Assert.True(cache.Verify(_key.PublicKey, messages[i], signatures[i]));
        }

        // Generations now: {2, 3} and {4}.
        Assert.True(cache.Verify(_key.PublicKey, messages[3], signatures[3]));
        Assert.True(cache.Verify(_key.PublicKey, messages[4], signatures[4]));
        Assert.Equal(5, counting.Calls);
        Assert.True(cache.Verify(_key.PublicKey, messages[0], signatures[0]));
        Assert.Equal(6, counting.Calls);
    }

    [Fact]
    public void The_boundary_between_signature_and_message_is_part_of_what_is_remembered()
    {
        var cache = new VerifiedSignatureCache(new AcceptsOnly("a"u8.ToArray(), "bc"u8.ToArray()));

        Assert.True(cache.Verify(_key.PublicKey, "bc"u8, "a"u8));
        Assert.False(cache.Verify(_key.PublicKey, "c"u8, "ab"u8));
        Assert.False(cache.Verify(_key.PublicKey, ""u8, "abc"u8));
    }

    [Fact]
    public void Threads_sharing_the_cache_get_the_inner_verifiers_verdicts()
    {
        var counting = new CountingVerifier();
        var cache = new VerifiedSignatureCache(counting, capacity: 64);
        var messages = Enumerable.Range(0, 50).Select(i => BitConverter.GetBytes(i)).ToArray();
        var signatures = messages.Select((m, i) => i % 5 == 0 ? new byte[64] : _key.Sign(m)).ToArray();
        var wrong = 0;

        Parallel.For(0, 2_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, n =>
        {
            var i = n % messages.Length;
            if (cache.Verify(_key.PublicKey, messages[i], signatures[i]) != (i % 5 != 0))
            {
                Interlocked.Increment(ref wrong);
            }
        });

        Assert.Equal(0, wrong);
        Assert.Equal(2_000, cache.Hits + cache.Misses);
        Assert.Equal(counting.Calls, cache.Misses);
        var before = counting.Calls;
        for (var i = 0; i < messages.Length; i++)
        {
            cache.Verify(_key.PublicKey, messages[i], signatures[i]);
        }

        // Accepted and rejected triples alike are remembered: a second pass checks nothing again.
        Assert.Equal(before, counting.Calls);
    }

    private sealed class AcceptsOnly(byte[] signature, byte[] message) : ISignatureVerifier
    {
        public bool Verify(Ed25519PublicKey key, ReadOnlySpan<byte> candidateMessage, ReadOnlySpan<byte> candidateSignature) =>
            candidateSignature.SequenceEqual(signature) && candidateMessage.SequenceEqual(message);
    }
}
