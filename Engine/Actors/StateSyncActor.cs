using Akka.Actor;
using Akka.Event;
using IdOS.Akka.Engine.Chain;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Storage;
using IdOS.Akka.Engine.Storage.Snapshots;

namespace IdOS.Akka.Engine.Actors;

/// <summary>What a node with an empty data folder needs to start from its peers' newest state snapshot.</summary>
public sealed record StateSyncSetup(ChainParameters Chain, int Self, IActorRef Directory, SqliteBlockStore Store, StateStoreOptions State,
    SnapshotDirectory Snapshots, int HistoryBlocks, TaskCompletionSource<StateSyncOutcome> Outcome)
{
    /// <summary>How long to wait for f + 1 peers to offer the same snapshot before starting from genesis instead.</summary>
    public TimeSpan OfferWait { get; init; } = TimeSpan.FromSeconds(20);

    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>How state sync ended: at the snapshot's height, or with none to sync from (the node starts from genesis).</summary>
public sealed record StateSyncOutcome(long Height, string Summary);

/// <summary>
/// Brings an empty node to its peers' newest state snapshot before consensus starts. It asks every validator for its
/// snapshots and picks the newest that f + 1 offer alike; follows the committed chain from genesis by headers (every
/// QC checked against its epoch's set, each change of set crossed with the old set's proof, <see cref="HeaderChain"/>)
/// and stores it as pruning leaves it; fetches the bodies of the last blocks
/// below the snapshot, which leader election reads; fetches the chunks from the peers that offered it
/// (<see cref="SnapshotFetch"/>, a wrong chunk caught on arrival); and imports them into the empty state, which
/// checks the offer against the app hash the chain certified for that height (claimed by a committed header, or, if
/// none names that height, the one the f + 1 peers agree on). Consensus then catches up from the snapshot's height.
/// </summary>
public sealed class StateSyncActor : ReceiveActor, IWithTimers
{
    private const int BodyRange = 64;

    private readonly StateSyncSetup _setup;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<int, IReadOnlyList<SnapshotOffer>> _offers = [];
    private readonly HeaderChain _headers;
    private readonly List<(PrunedBlock Header, QuorumCertificate Certificate)> _needBodies = [];
    private readonly DateTime _started = DateTime.UtcNow;
    private SnapshotOffer? _offer;
    private IReadOnlyList<int> _offeredBy = [];
    private DateTime? _stuckSince;
    private byte[]? _claimedAppHash;
    private int _asked;
    private (long From, int Peer, DateTime At)? _pending;
    private bool _headersDone;
    private int _bodyMisses;
    private SnapshotFetch? _fetch;
    private SnapshotDirectory.Writer? _writer;

    public StateSyncActor(StateSyncSetup setup)
    {
        _setup = setup;
        _asked = setup.Self;
        _headers = new HeaderChain(setup.Chain, Crypto.Ed25519Verifier.Instance);
        Receive<Tick>(_ => OnTick());
        // A node that is itself syncing has no snapshot to offer; saying so at once lets a network starting from
        // genesis, every node empty, start without waiting out the offer time.
        Receive<PeerDirectory.FromValidator>(from => from.Message is SnapshotOffersQuery,
            from => setup.Directory.Tell(new PeerDirectory.ToValidator(from.Validator, new SnapshotOffers([]))));
        Receive<PeerDirectory.FromValidator>(from => from.Message is SnapshotOffers, from => OnOffers(from.Validator, (SnapshotOffers)from.Message));
        Receive<PeerDirectory.FromValidator>(from => from.Message is SnapshotChunk, from => OnChunk(from.Validator, (SnapshotChunk)from.Message));
        Receive<ConsensusActor.Inbound>(inbound => inbound.Message is HeaderRangeResponse, inbound => OnHeaders(inbound.From.Value, (HeaderRangeResponse)inbound.Message));
        Receive<ConsensusActor.Inbound>(inbound => inbound.Message is BlockRangeResponse, inbound => OnBodies(inbound.From.Value, (BlockRangeResponse)inbound.Message));
        ReceiveAny(_ => { });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(StateSyncSetup setup) =>
        global::Akka.Actor.Props.Create(() => new StateSyncActor(setup)).WithDispatcher("idos.blocking-io-dispatcher");

    protected override void PreStart() => Timers.StartPeriodicTimer("tick", Tick.Instance, TimeSpan.FromMilliseconds(500));

    private void OnTick()
    {
        try
        {
            if (_offer is null)
            {
                AskForOffers();
            }
            else if (!_headersDone || _needBodies.Count > 0)
            {
                AskAgainIfOverdue();
            }
            else
            {
                FetchChunks();
            }
        }
        catch (Exception e) when (e is SnapshotRefusedException or InvalidOperationException or IOException)
        {
            Fail(e.Message);
        }
    }

    private void AskForOffers()
    {
        var waited = DateTime.UtcNow - _started;
        if (waited > _setup.OfferWait)
        {
            Finish(new StateSyncOutcome(0, $"no snapshot offered alike by {_setup.Chain.Validators.OneHonest} peers within {_setup.OfferWait.TotalSeconds} s"));
            return;
        }

        _setup.Directory.Tell(new PeerDirectory.ToAll(SnapshotOffersQuery.Instance));
    }

    private void OnOffers(int peer, SnapshotOffers offers)
    {
        var decoded = offers.Offers.Select(bytes => SnapshotOffer.TryDecode(bytes, out _)).OfType<SnapshotOffer>().ToList();
        if (_offer is { } chosen)
        {
            // The choice needed f + 1 alike; the others that offer the same snapshot later serve chunks too, so that
            // peers whose copies turn out damaged do not end the sync while an intact copy is on offer.
            if (decoded.Any(offer => SnapshotChoice.Alike(offer, chosen)) && !_offeredBy.Contains(peer))
            {
                _offeredBy = [.. _offeredBy, peer];
                _fetch?.AddPeer(peer);
            }

            return;
        }

        _offers[peer] = decoded;
        if (SnapshotChoice.Choose(_offers, _setup.Chain.Validators.OneHonest) is not { } choice)
        {
            // Every validator takes the same snapshots: f + 1 with none include an honest one, so none exists yet.
            if (_offers.Values.Count(o => o.Count == 0) >= _setup.Chain.Validators.OneHonest)
            {
                Finish(new StateSyncOutcome(0, $"{_setup.Chain.Validators.OneHonest} validators hold no snapshot yet"));
            }

            return;
        }

        (_offer, _offeredBy) = choice;
        _log.Info("State sync: the snapshot at height {0} is offered by validators {1}; checking the chain up to it", _offer.Manifest.Height, string.Join(", ", _offeredBy));
        AskForHeaders();
    }

    private void AskForHeaders()
    {
        var peer = NextPeer();
        _pending = (_headers.NextHeight, peer, DateTime.UtcNow);
        _setup.Directory.Tell(new PeerDirectory.ToValidator(peer, new HeaderRangeRequest(_headers.NextHeight, HeaderRangeRequest.Limit, _headers.Epoch.Epoch)));
    }

    private void OnHeaders(int peer, HeaderRangeResponse response)
    {
        if (_offer is null || _pending is not { } pending || pending.Peer != peer || pending.From != response.FromHeight)
        {
            return;
        }

        _pending = null;
        var epoch = _headers.Epoch.Epoch;
        var (committed, refusal) = _headers.Add(response.Headers, response.Transition);
        if (_headers.Epoch.Epoch > epoch && response.Transition is { } transition)
        {
            // Kept as the node's own validators keep them: its replica opens the epoch it starts in with the proof,
            // and it serves both to the next node that follows the chain by headers.
            _setup.Store.KeepEpochProof(epoch, transition.Proof);
            _setup.Store.KeepEpochSet(epoch + 1, transition.NextSet);
            _log.Info("State sync: epoch {0} ended at height {1}; epoch {2}'s {3} validators certify the chain from there",
                epoch, transition.Proof.LastHeight, epoch + 1, transition.NextSet.Count);
        }

        var height = _offer.Manifest.Height;
        foreach (var (header, certificate) in committed)
        {
            if (header.Header.ExecutedHeight == height && _claimedAppHash is null)
            {
                _claimedAppHash = header.Header.ExecutedAppHash.ToArray();
            }

            if (header.Header.Height <= height - _setup.HistoryBlocks - 1)
            {
                _setup.Store.AppendPruned(header, certificate);
            }
            else if (header.Header.Height <= height)
            {
                _needBodies.Add((header, certificate));
            }
        }

        if (refusal is not null)
        {
            _log.Warning("State sync: headers from validator {0} refused: {1}", peer, refusal);
        }

        // A few heights past the snapshot, for a committed header that claims its app hash; fewer when the peers
        // have committed no more.
        var progressed = response.Headers.Count > 0 || response.Transition is not null;
        if (_headers.CommittedHeight >= height + 8 || (!progressed && refusal is null && _headers.CommittedHeight >= height))
        {
            _headersDone = true;
            AskForBodies();
        }
        else if (progressed || refusal is not null)
        {
            AskForHeaders();
        }
    }

    private void AskForBodies()
    {
        if (_needBodies.Count == 0)
        {
            return;
        }

        var peer = NextPeer();
        var from = _needBodies[0].Header.Header.Height;
        _pending = (from, peer, DateTime.UtcNow);
        _setup.Directory.Tell(new PeerDirectory.ToValidator(peer, new BlockRangeRequest(from, Math.Min(BodyRange, _needBodies.Count))));
    }

    private void OnBodies(int peer, BlockRangeResponse response)
    {
        if (_pending is not { } pending || pending.Peer != peer || pending.From != response.FromHeight || _needBodies.Count == 0)
        {
            return;
        }

        _pending = null;
        var before = _needBodies.Count;
        foreach (var block in response.Blocks)
        {
            if (_needBodies.Count == 0 || block.Id != _needBodies[0].Header.Id || !block.BodyMatchesHeader())
            {
                break;
            }

            _setup.Store.Append(block, _needBodies[0].Certificate);
            _needBodies.RemoveAt(0);
        }

        if (_needBodies.Count < before)
        {
            _bodyMisses = 0;
            AskForBodies();
        }
        else if (++_bodyMisses > 3 * _setup.Chain.Validators.Count)
        {
            // The next tick would ask again; the snapshot is older than what the peers keep bodies for.
            Fail($"no peer sends the bodies of the blocks below the snapshot at height {_offer!.Manifest.Height} (pruned, or refused); start again to take a newer one");
        }
    }

    private void AskAgainIfOverdue()
    {
        if (_pending is { } pending && DateTime.UtcNow - pending.At < _setup.RetryAfter)
        {
            return;
        }

        if (_headersDone)
        {
            AskForBodies();
        }
        else
        {
            AskForHeaders();
        }
    }

    private void FetchChunks()
    {
        var offer = _offer!;
        if (_fetch is null)
        {
            _fetch = new SnapshotFetch(offer, _offeredBy, perPeer: 2, retryMs: (long)_setup.RetryAfter.TotalMilliseconds);
            _writer = _setup.Snapshots.Begin(offer.Manifest.Height);
            _log.Info("State sync: the chain is checked up to height {0}; fetching the snapshot's {1} chunks", _headers.CommittedHeight, offer.Manifest.ChunkHashes.Count);
        }

        if (_fetch.IsStuck)
        {
            // Other validators may hold the snapshot too: asked for their offers until the offer wait runs out.
            _stuckSince ??= DateTime.UtcNow;
            if (DateTime.UtcNow - _stuckSince.Value < _setup.OfferWait)
            {
                _setup.Directory.Tell(new PeerDirectory.ToAll(SnapshotOffersQuery.Instance));
                return;
            }

            Fail($"no peer that offered the snapshot at height {offer.Manifest.Height} sends chunk(s) matching its manifest any more " +
                $"(offered by {string.Join(", ", _offeredBy)}; liars: {string.Join(", ", _fetch.Liars)})");
            return;
        }

        _stuckSince = null;

        foreach (var (peer, index) in _fetch.Requests(Environment.TickCount64))
        {
            _setup.Directory.Tell(new PeerDirectory.ToValidator(peer, new SnapshotChunkQuery(offer.Manifest.Height, index)));
        }

        if (_fetch.IsComplete)
        {
            Import();
        }
    }

    private void OnChunk(int peer, SnapshotChunk chunk)
    {
        if (_fetch is null || _writer is null || chunk.Height != _fetch.Offer.Manifest.Height)
        {
            return;
        }

        switch (_fetch.Accept(peer, chunk.Index, chunk.Bytes))
        {
            case SnapshotFetch.Verdict.Taken:
                _writer.Chunk(chunk.Index, chunk.Bytes);
                break;
            case SnapshotFetch.Verdict.Refused:
                _log.Warning("State sync: validator {0} sent chunk {1} of the snapshot at height {2}, which is not the one its manifest lists; it is asked nothing more",
                    peer, chunk.Index, chunk.Height);
                break;
        }

        if (_fetch.IsComplete)
        {
            OnTick();
        }
    }

    private void Import()
    {
        var offer = _offer!;
        var height = offer.Manifest.Height;
        var certified = _claimedAppHash ?? offer.AppHash;
        if (_setup.Store.HeaderAt(height) is not { } header)
        {
            Fail($"height {height} is not in the block store after the headers were checked");
            return;
        }

        _writer!.Complete(offer);
        using (var state = StateDatabase.Open(_setup.State))
        {
            SnapshotImport.Import(state, offer, new CertifiedHeight(height, header.Id.ToArray(), header.Header.Timestamp, certified),
                index => _setup.Snapshots.Chunk(height, index) ?? throw new IOException($"chunk {index} of the snapshot at height {height} went missing"));
        }

        _setup.Store.RecordSnapshotAppHash(height, new Crypto.Hash32(certified));
        Finish(new StateSyncOutcome(height, $"imported the snapshot at height {height} ({offer.Manifest.Rows} rows, {offer.Manifest.ChunkHashes.Count} chunks" +
            $"{(_fetch!.Liars.Count > 0 ? $"; validator(s) {string.Join(", ", _fetch.Liars)} sent wrong chunks" : "")}); the app hash there is " +
            (_claimedAppHash is null ? "the one f + 1 validators offered" : "the one the chain certified")));
    }

    private int NextPeer()
    {
        var n = _setup.Chain.Validators.Count;
        _asked = (_asked + 1) % n;
        if (_asked == _setup.Self)
        {
            _asked = (_asked + 1) % n;
        }

        return _asked;
    }

    private void Fail(string reason)
    {
        _setup.Outcome.TrySetException(new InvalidOperationException($"State sync failed: {reason}"));
        Context.Stop(Self);
    }

    private void Finish(StateSyncOutcome outcome)
    {
        _setup.Outcome.TrySetResult(outcome);
        Context.Stop(Self);
    }

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
