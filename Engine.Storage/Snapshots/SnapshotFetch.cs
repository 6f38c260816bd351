using System.Security.Cryptography;

namespace IdOS.Akka.Engine.Storage.Snapshots;

/// <summary>
/// Which snapshot to fetch, from the offers peers made: the newest that at least <c>needed</c> peers offer alike
/// (with at most f of them faulty, f + 1 alike include an honest one), and the peers that offer it. The chain's
/// certificates are still checked before anything is imported; agreement only keeps one liar from sending a node
/// after a snapshot nobody else holds.
/// </summary>
public static class SnapshotChoice
{
    public static (SnapshotOffer Offer, IReadOnlyList<int> Peers)? Choose(IReadOnlyDictionary<int, IReadOnlyList<SnapshotOffer>> offersByPeer, int needed)
    {
        ArgumentNullException.ThrowIfNull(offersByPeer);
        ArgumentOutOfRangeException.ThrowIfLessThan(needed, 1);
        return offersByPeer
            .SelectMany(entry => entry.Value.DistinctBy(Key).Select(offer => (Peer: entry.Key, Offer: offer, Key: Key(offer))))
            .GroupBy(o => o.Key)
            .Where(group => group.Count() >= needed)
            .Select(group => (group.First().Offer, Peers: (IReadOnlyList<int>)[.. group.Select(o => o.Peer).Order()]))
            .OrderByDescending(choice => choice.Offer.Manifest.Height)
            .ThenBy(choice => Key(choice.Offer), StringComparer.Ordinal)
            .Select(choice => ((SnapshotOffer, IReadOnlyList<int>)?)choice)
            .FirstOrDefault();
    }

    /// <summary>Whether two offers are of one snapshot: the same bytes, hence the same manifest.</summary>
    public static bool Alike(SnapshotOffer a, SnapshotOffer b) => Key(a) == Key(b);

    private static string Key(SnapshotOffer offer) => Convert.ToHexStringLower(SHA256.HashData(offer.Encode()));
}

/// <summary>
/// Fetching one snapshot's chunks from several peers at once: each peer has a few chunks asked of it at a time, a
/// chunk is checked against the manifest's hash the moment it arrives, and a peer that sends a chunk that is not the
/// listed one is asked nothing more, its chunk asked of another. A chunk unanswered for the retry time, or answered
/// as not held, goes to another peer. Time comes in from the caller; nothing here does I/O.
/// </summary>
public sealed class SnapshotFetch
{
    private readonly SnapshotOffer _offer;
    private readonly List<int> _peers;
    private readonly int _perPeer;
    private readonly long _retryMs;
    private readonly bool[] _held;
    private readonly Dictionary<int, (int Peer, long SentAt)> _asked = [];
    private readonly Dictionary<int, HashSet<int>> _triedFor = [];
    private readonly HashSet<int> _liars = [];
    private int _nextPeer;

    public SnapshotFetch(SnapshotOffer offer, IReadOnlyList<int> peers, int perPeer = 2, long retryMs = 10_000)
    {
        ArgumentNullException.ThrowIfNull(offer);
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentOutOfRangeException.ThrowIfLessThan(perPeer, 1);
        _offer = offer;
        _peers = [.. peers.Distinct()];
        _perPeer = perPeer;
        _retryMs = retryMs;
        _held = new bool[offer.Manifest.ChunkHashes.Count];
    }

    /// <summary>A peer that offered the same snapshot after the fetch began: asked too from now on.</summary>
    public void AddPeer(int peer)
    {
        if (!_peers.Contains(peer))
        {
            _peers.Add(peer);
        }
    }

    /// <summary>What a chunk that arrived came to.</summary>
    public enum Verdict
    {
        /// <summary>Not asked of that peer (late, duplicate or unsolicited): ignored.</summary>
        Unasked,

        /// <summary>The listed chunk: keep it.</summary>
        Taken,

        /// <summary>The peer does not hold it: asked elsewhere.</summary>
        NotHeld,

        /// <summary>Not the listed chunk: the peer lied or its copy is damaged; it is asked nothing more.</summary>
        Refused,
    }

    public SnapshotOffer Offer => _offer;

    public int Held => _held.Count(h => h);

    public bool IsComplete => Held == _held.Length;

    /// <summary>Peers that sent a chunk that was not the listed one.</summary>
    public IReadOnlyCollection<int> Liars => _liars;

    /// <summary>True when some chunk is missing and no peer is left that was not tried for it or caught lying.</summary>
    public bool IsStuck => Enumerable.Range(0, _held.Length).Any(i => !_held[i] && !_asked.ContainsKey(i)
        && _peers.All(peer => _liars.Contains(peer) || (_triedFor.TryGetValue(i, out var tried) && tried.Contains(peer))));

    /// <summary>Chunks to ask for now, each with the peer to ask: overdue ones again elsewhere, then new ones while peers have room.</summary>
    public List<(int Peer, int Index)> Requests(long now)
    {
        var requests = new List<(int Peer, int Index)>();
        foreach (var (index, asked) in _asked.Where(a => now - a.Value.SentAt >= _retryMs).ToList())
        {
            _asked.Remove(index);
            if (PeerFor(index) is { } peer)
            {
                requests.Add(Ask(index, peer, now));
            }
        }

        for (var index = 0; index < _held.Length; index++)
        {
            if (_held[index] || _asked.ContainsKey(index))
            {
                continue;
            }

            if (PeerFor(index) is { } peer)
            {
                requests.Add(Ask(index, peer, now));
            }
        }

        return requests;
    }

    public Verdict Accept(int peer, int index, ReadOnlySpan<byte> bytes)
    {
        if (!_asked.TryGetValue(index, out var asked) || asked.Peer != peer)
        {
            return Verdict.Unasked;
        }

        _asked.Remove(index);
        if (bytes.IsEmpty)
        {
            return Verdict.NotHeld;
        }

        if (bytes.Length > SnapshotManifest.MaxChunkBytes || !SHA256.HashData(bytes).AsSpan().SequenceEqual(_offer.Manifest.ChunkHashes[index]))
        {
            _liars.Add(peer);
            foreach (var (other, _) in _asked.Where(a => a.Value.Peer == peer).ToList())
            {
                _asked.Remove(other);
            }

            return Verdict.Refused;
        }

        _held[index] = true;
        return Verdict.Taken;
    }

    private (int Peer, int Index) Ask(int index, int peer, long now)
    {
        _asked[index] = (peer, now);
        (_triedFor.TryGetValue(index, out var tried) ? tried : _triedFor[index] = []).Add(peer);
        return (peer, index);
    }

    /// <summary>The next peer in turn with room, not caught lying and not yet asked for this chunk; null when none is left.</summary>
    private int? PeerFor(int index)
    {
        var tried = _triedFor.TryGetValue(index, out var set) ? set : null;
        for (var step = 0; step < _peers.Count; step++)
        {
            var peer = _peers[(_nextPeer + step) % _peers.Count];
            if (_liars.Contains(peer) || tried?.Contains(peer) == true || _asked.Values.Count(a => a.Peer == peer) >= _perPeer)
            {
                continue;
            }

            _nextPeer = (_nextPeer + step + 1) % _peers.Count;
            return peer;
        }

        return null;
    }
}
