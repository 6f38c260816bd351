using Akka.Actor;

namespace IdOS.Akka.Engine.Actors;

/// <summary>
/// When each peer the directory greets was last heard from, and which have been silent long enough that their
/// connections should be closed (see <see cref="Network.PeerConnections"/>): each at most once in
/// <see cref="RetryMs"/>, so that a peer that stays silent costs one attempt per interval.
/// </summary>
internal sealed class SilentLinks(long silentMs)
{
    public const long RetryMs = 30_000;
    private readonly Dictionary<Address, long> _heardAt = [];
    private readonly Dictionary<Address, long> _closedAt = [];

    /// <summary>Something from <paramref name="peer"/> arrived at <paramref name="atMs"/>; an older report changes nothing.</summary>
    public void Heard(Address peer, long atMs)
    {
        if (!_heardAt.TryGetValue(peer, out var known) || atMs > known)
        {
            _heardAt[peer] = atMs;
        }
    }

    public void Forget(Address peer)
    {
        _heardAt.Remove(peer);
        _closedAt.Remove(peer);
    }

    /// <summary>
    /// The peers of <paramref name="greeted"/> silent for the window and not tried within the retry interval, with how
    /// long each has been silent; a peer first seen here counts as heard now.
    /// </summary>
    public List<(Address Peer, long SilentMs)> Due(IEnumerable<Address> greeted, long nowMs)
    {
        var due = new List<(Address, long)>();
        foreach (var peer in greeted)
        {
            if (!_heardAt.TryGetValue(peer, out var heard))
            {
                _heardAt[peer] = nowMs;
            }
            else if (nowMs - heard >= silentMs && nowMs - _closedAt.GetValueOrDefault(peer, long.MinValue / 2) >= RetryMs)
            {
                _closedAt[peer] = nowMs;
                due.Add((peer, nowMs - heard));
            }
        }

        return due;
    }
}
