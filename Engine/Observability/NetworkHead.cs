using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Observability;

/// <summary>
/// How high the network's chain is, as this node can tell without trusting any one peer: each peer's highest
/// proposal height seen on its authenticated link, and the (f + 1)-th highest of those, which at least one correct
/// validator reached. Written by the peer directory, read by whoever reports health.
/// </summary>
public sealed class NetworkHead
{
    private readonly Dictionary<Ed25519PublicKey, long> _claims = [];
    private long _estimate;

    /// <summary>The estimate; 0 while fewer than f + 1 peers have proposed anything.</summary>
    public long Height => Interlocked.Read(ref _estimate);

    /// <summary>
    /// <paramref name="peer"/> sent a proposal for <paramref name="height"/>; <paramref name="oneHonest"/> is f + 1 of
    /// the current set. Only the peer directory calls this (one thread).
    /// </summary>
    public void Claim(Ed25519PublicKey peer, long height, int oneHonest)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (_claims.TryGetValue(peer, out var known) && known >= height)
        {
            return;
        }

        _claims[peer] = height;
        if (_claims.Count < oneHonest)
        {
            return;
        }

        var estimate = _claims.Values.OrderDescending().ElementAt(oneHonest - 1);
        Interlocked.Exchange(ref _estimate, Math.Max(estimate, Interlocked.Read(ref _estimate)));
    }

    /// <summary>A peer no longer admitted (removed by governance) stops counting.</summary>
    public void Forget(Ed25519PublicKey peer) => _claims.Remove(peer);
}
