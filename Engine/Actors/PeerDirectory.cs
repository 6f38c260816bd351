using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Observability;
using AkkaCluster = Akka.Cluster.Cluster;

namespace IdOS.Akka.Engine.Actors;

/// <summary>
/// What a peer directory needs to prove who it is, to check who others are, and where to look for them first. The
/// verifier is the one the consensus actor's replica uses: the directory's inbound verifiers fill it. Until the
/// consensus actor says which epoch it runs in (<see cref="PeerDirectory.EpochChanged"/>), the validators are
/// genesis's.
/// </summary>
public sealed record PeerDirectorySetup(ChainParameters Chain, Ed25519PrivateKey Key, VerifiedSignatureCache Verifier, Func<long> ClockMs,
    IReadOnlyList<Address> Seeds)
{
    /// <summary>What each peer validator's inbound messages may cost; beyond it they are dropped and counted.</summary>
    public PeerLimits Limits { get; init; } = PeerLimits.Default;

    /// <summary>The transport whose TLS pins follow the validator sets; none without TLS.</summary>
    public TransportSecurity? Transport { get; init; }

    public static readonly TimeSpan DefaultCloseSilentLinksAfter = TimeSpan.FromSeconds(15);

    /// <summary>How long a greeted peer may send nothing, on connections that still carry frames, before they are closed; null: never.</summary>
    public TimeSpan? CloseSilentLinksAfter { get; init; } = DefaultCloseSilentLinksAfter;

    /// <summary>Where the peers' proposals tell how high the network is (for health), and what the messages count in.</summary>
    public NetworkHead Head { get; init; } = new();

    public NodeMetrics? Metrics { get; init; }
}

/// <summary>
/// Maps peers to validators. Membership says only that some process joined: a peer counts as a validator once it
/// sent a hello signed with a key of the current or a scheduled set for its own address. Peers are numbered for the
/// actors behind this one as the replica numbers validators: by their index in the current set, and the others (a
/// validator that joins in a later epoch) from <see cref="ValidatorSet.MaxValidators"/> on. Consensus messages and forwarded transactions from anyone
/// else are dropped and counted. The links do not depend on cluster membership: besides members with the validator
/// role, the seed nodes, every validator that proved itself and the addresses such validators vouch for are greeted
/// periodically. Akka admits a restarted member only after its old incarnation is removed, which needs cluster
/// convergence, and a dead validator (never downed) holds convergence back; the restarted validator still reaches
/// its peers this way. A lost hello or a restarted peer needs no handshake state. Each validator's consensus messages
/// pass through an <see cref="InboundVerifier"/> of its own, which checks their signatures before the consensus actor.
/// While a node with an empty data folder syncs its state at start, the answers about snapshots, headers and block
/// ranges go to its <see cref="StateSyncActor"/>.
/// </summary>
public sealed class PeerDirectory : ReceiveActor, IWithTimers, IWithStash
{
    public const string Name = "peers";
    private static readonly TimeSpan GreetInterval = TimeSpan.FromSeconds(2);
    private static readonly long HelloMaxAgeMs = (long)TimeSpan.FromMinutes(2).TotalMilliseconds;

    // Every live peer sends its peer list each greet interval, so five missed in a row mean it is gone (killed,
    // stopped, cut off) even though, with downing off, the cluster keeps it as a member.
    private static readonly long LiveWindowMs = 5 * (long)GreetInterval.TotalMilliseconds;

    // Akka's transport heartbeats, every 4 s, keep a connection that is up within this window.
    private static readonly long LiveConnectionMs = 10_000;

    private readonly PeerDirectorySetup _setup;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly AkkaCluster _cluster = AkkaCluster.Get(Context.System);
    private readonly Dictionary<Address, UniqueAddress> _members = [];
    private readonly HashSet<Address> _targets = [];
    private readonly SilentLinks? _silentLinks;
    private long _lonelyGreets;
    private readonly Dictionary<Address, Ed25519PublicKey> _validatorAt = [];
    private readonly Dictionary<Ed25519PublicKey, IActorRef> _directoryOf = [];
    private readonly Dictionary<Ed25519PublicKey, long> _lastHeard = [];
    private int _livePeersTold = -1;
    private readonly Dictionary<Ed25519PublicKey, IActorRef> _verifierOf = [];
    private readonly Dictionary<Ed25519PublicKey, int> _ordinalOf = [];
    private readonly List<Ed25519PublicKey> _keyOfOrdinal = [];
    private HashSet<Ed25519PublicKey> _admitted;
    private ChainParameters _chain;
    private Dictionary<Ed25519PublicKey, int> _indexOf;
    private IActorRef _consensus = ActorRefs.Nobody;
    private IActorRef _mempool = ActorRefs.Nobody;
    private IActorRef _sync = ActorRefs.Nobody;
    private IActorRef _stateSync = ActorRefs.Nobody;
    private int _attachments = 1;
    private readonly PeerBudgets _inboundBudget;
    private long _dropped;
    private long _unroutable;
    private long _overLimit;

    public PeerDirectory(PeerDirectorySetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        _setup = setup;
        _chain = setup.Chain;
        _indexOf = IndicesOf(setup.Chain.Validators);
        _admitted = [.. Enumerable.Range(0, setup.Chain.Validators.Count).Select(i => setup.Chain.Validators[i])];
        _inboundBudget = new PeerBudgets(setup.Limits.MessagesPerSecond, setup.Limits.MessagesBurst);
        _silentLinks = setup.Transport is not null && setup.CloseSilentLinksAfter is { } after ? new SilentLinks((long)after.TotalMilliseconds) : null;
        Receive<Attach>(attach =>
        {
            _consensus = attach.Consensus;
            _mempool = attach.Mempool;
            _sync = attach.Sync;
            Stash.UnstashAll();
            Become(Attached);
        });
        ReceiveAny(_ => Stash.Stash());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public IStash Stash { get; set; } = null!;

    /// <summary>The mailbox peers' messages arrive in: bounded, dropping what finds it full (hocon/node.conf).</summary>
    public const string PeerMailbox = "idos.peer-mailbox";

    public static Props Props(PeerDirectorySetup setup) =>
        global::Akka.Actor.Props.Create(() => new PeerDirectory(setup)).WithMailbox(PeerMailbox);

    protected override void PreStart()
    {
        _targets.UnionWith(_setup.Seeds.Where(seed => seed != _cluster.SelfAddress));
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.MemberUp), typeof(ClusterEvent.MemberRemoved));
        Timers.StartPeriodicTimer("greet", Greet.Instance, GreetInterval);
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void Attached()
    {
        Receive<ClusterEvent.MemberUp>(up =>
        {
            if (up.Member.Address != _cluster.SelfAddress && up.Member.HasRole("validator"))
            {
                _members[up.Member.Address] = up.Member.UniqueAddress;
                _targets.Add(up.Member.Address);
                SendHello(up.Member.Address);
            }
        });
        Receive<ClusterEvent.MemberRemoved>(removed =>
        {
            // A node that missed some gossip may learn of a restarted validator's new incarnation before the removal
            // of its old one at the same address; that late removal must not forget the new incarnation.
            if (_members.TryGetValue(removed.Member.Address, out var current) && current.Equals(removed.Member.UniqueAddress))
            {
                _members.Remove(removed.Member.Address);
                Forget(removed.Member.Address);
            }
        });
        Receive<Greet>(_ =>
        {
            TellLivePeers();
            foreach (var target in _targets)
            {
                SendHello(target);
            }

            var known = new PeerAddresses([.. _validatorAt.Keys.Select(a => a.ToString())]);
            foreach (var directory in _directoryOf.Values)
            {
                directory.Tell(known, Self);
            }

            WarnWhenAlone();
            CloseSilentLinks();
        });
        Receive<PeerAddresses>(peers =>
        {
            if (Authenticated() is not null)
            {
                Learn(peers);
            }
        });
        Receive<PeerHello>(OnHello);
        Receive<ConsensusMessage>(message =>
        {
            if (Authenticated() is { } key && WithinBudget(key))
            {
                var validator = NumberOf(key);
                _setup.Metrics?.Received(message);
                if (message is Proposal proposal)
                {
                    _setup.Head.Claim(key, proposal.Block.Height, _chain.Validators.OneHonest);
                }

                var inbound = new ConsensusActor.Inbound(new PeerId(validator), message);
                (message switch
                {
                    BlockRequest or BlockRangeRequest or HeaderRangeRequest => _sync,
                    HeaderRangeResponse => _stateSync,
                    BlockRangeResponse when !_stateSync.IsNobody() => _stateSync,
                    _ => VerifierOf(key),
                }).Tell(inbound);
            }
        });
        Receive<ForwardedTransactions>(forwarded =>
        {
            if (Authenticated() is { } key && WithinBudget(key))
            {
                _mempool.Tell(forwarded);
            }
        });
        Receive<NodeMessage>(message => message is SnapshotOffersQuery or SnapshotChunkQuery or SnapshotOffers or SnapshotChunk, message =>
        {
            if (Authenticated() is { } key && WithinBudget(key))
            {
                var from = new FromValidator(NumberOf(key), message);
                var syncing = !_stateSync.IsNobody();
                (message is SnapshotOffers or SnapshotChunk || (syncing && message is SnapshotOffersQuery) ? _stateSync : _sync).Tell(from);
            }
        });
        Receive<ToAll>(all =>
        {
            foreach (var directory in _directoryOf.Values)
            {
                directory.Tell(all.Message, Self);
            }

            _setup.Metrics?.Sent(all.Message, _directoryOf.Count);
        });
        Receive<ToValidator>(to =>
        {
            if (KeyOf(to.Validator) is { } key && _directoryOf.TryGetValue(key, out var directory))
            {
                directory.Tell(to.Message, Self);
                _setup.Metrics?.Sent(to.Message, 1);
            }
            else
            {
                _unroutable++;
            }
        });
        Receive<CountersQuery>(_ => Sender.Tell(new Counters(_validatorAt.Count, _dropped, _unroutable, _overLimit)));
        Receive<PeersQuery>(_ =>
        {
            var now = _setup.ClockMs();
            Sender.Tell(new PeersReply([.. _validatorAt.Select(entry => new PeerLink(NumberOf(entry.Value), entry.Value, entry.Key.ToString(),
                now - _lastHeard.GetValueOrDefault(entry.Value, now), _indexOf.ContainsKey(entry.Value))).OrderBy(p => p.Number)]));
        });
        Receive<AttachStateSync>(attach => _stateSync = attach.StateSync);
        Receive<EpochChanged>(changed =>
        {
            _chain = changed.Chain;
            _indexOf = IndicesOf(changed.Chain.Validators);
            Admit(changed.Admitted, changed.Contacts);
            StopVerifiers();
            TellLivePeers();
        });
        Receive<EpochScheduled>(scheduled => Admit(scheduled.Admitted, scheduled.Contacts));
        Receive<Attach>(attach =>
        {
            // Attached again once a state sync is over, now to the actors consensus runs on: the inbound verifiers
            // hand on to the consensus actor they were made with, so they are made again.
            _consensus = attach.Consensus;
            _mempool = attach.Mempool;
            _sync = attach.Sync;
            StopVerifiers();
            _livePeersTold = -1;
            TellLivePeers();
        });
    }

    /// <summary>
    /// The inbound verifiers hand on to the consensus actor they were made with and check against the set they were
    /// made with: made again after a state sync and at each epoch.
    /// </summary>
    private void StopVerifiers()
    {
        foreach (var verifier in _verifierOf.Values)
        {
            Context.Stop(verifier);
        }

        _verifierOf.Clear();
        _attachments++;
    }

    /// <summary>
    /// The keys that may say hello from now on, and the TLS pins and addresses of those that joined by governance:
    /// their handshakes are accepted, and they are greeted. A validator no longer among them (removed by governance,
    /// its last epoch over) is forgotten: its messages are dropped, nothing more is sent to it, and its pin is refused.
    /// </summary>
    private void Admit(IReadOnlySet<Ed25519PublicKey> admitted, IReadOnlyDictionary<Ed25519PublicKey, ValidatorContact> contacts)
    {
        _admitted = [.. admitted];
        _setup.Transport?.AdmitJoinedValidators(contacts.Values.SelectMany(c => c.Pins).Select(TlsPin.TryParse).OfType<TlsPin>());
        _setup.Transport?.KeepGenesisValidators(_admitted);
        foreach (var contact in contacts.Values)
        {
            var colon = contact.Address.LastIndexOf(':');
            if (colon > 0 && int.TryParse(contact.Address.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture, out var port))
            {
                var self = _cluster.SelfAddress;
                var address = new Address(self.Protocol, self.System, contact.Address[..colon].Trim('[', ']'), port);
                if (address != self)
                {
                    _targets.Add(address);
                }
            }
        }

        foreach (var (address, key) in _validatorAt.Where(entry => !_admitted.Contains(entry.Value)).ToList())
        {
            _log.Info("Validator {0} at {1} has no vote in this epoch or any scheduled: its link is dropped.", key, address);
            Forget(address);
            _targets.Remove(address);
            _silentLinks?.Forget(address);
            _setup.Head.Forget(key);
        }
    }

    private IActorRef VerifierOf(Ed25519PublicKey key)
    {
        if (!_verifierOf.TryGetValue(key, out var verifier))
        {
            var ordinal = OrdinalOf(key);
            verifier = Context.ActorOf(InboundVerifier.Props(_chain, _setup.Key.PublicKey, _setup.Verifier, _consensus).WithMailbox(PeerMailbox),
                $"verifier-{ordinal}-{_attachments}");
            _verifierOf[key] = verifier;
        }

        return verifier;
    }

    /// <summary>A peer's index in the current set, or its number past the largest set's indices when it has no vote in it.</summary>
    /// <summary>Connected peers with a vote in the current epoch heard from lately: what a quorum is counted from.</summary>
    private int PeersOfTheSet()
    {
        var now = _setup.ClockMs();
        return _directoryOf.Keys.Count(key => _indexOf.ContainsKey(key) && now - _lastHeard.GetValueOrDefault(key, long.MinValue / 2) <= LiveWindowMs);
    }

    private void TellLivePeers()
    {
        var live = PeersOfTheSet();
        if (live != _livePeersTold)
        {
            _livePeersTold = live;
            _consensus.Tell(new PeersChanged(live));
        }
    }

    private int NumberOf(Ed25519PublicKey key) => _indexOf.TryGetValue(key, out var index) ? index : ValidatorSet.MaxValidators + OrdinalOf(key);

    private Ed25519PublicKey? KeyOf(int number) =>
        _chain.Validators.IsValidIndex(number) ? _chain.Validators[number]
        : number - ValidatorSet.MaxValidators is var ordinal && ordinal >= 0 && ordinal < _keyOfOrdinal.Count ? _keyOfOrdinal[ordinal]
        : null;

    /// <summary>Numbers every key this directory met for good: budgets and verifier names stay with a validator across epochs.</summary>
    private int OrdinalOf(Ed25519PublicKey key)
    {
        if (!_ordinalOf.TryGetValue(key, out var ordinal))
        {
            ordinal = _ordinalOf.Count;
            _ordinalOf[key] = ordinal;
            _keyOfOrdinal.Add(key);
        }

        return ordinal;
    }

    private static Dictionary<Ed25519PublicKey, int> IndicesOf(ValidatorSet validators) =>
        Enumerable.Range(0, validators.Count).ToDictionary(i => validators[i], i => i);

    private void SendHello(Address member)
    {
        var hello = PeerHello.Sign(_setup.Chain.ChainId, _setup.Key, _cluster.SelfAddress.ToString(), _setup.ClockMs());
        Context.ActorSelection(new RootActorPath(member) / "user" / Name).Tell(hello, Self);
    }

    private void OnHello(PeerHello hello)
    {
        var from = Sender.Path.Address;
        Heard(from);
        var verdict = hello.Check(_setup.Chain.ChainId, _admitted, _setup.Verifier, from.ToString(), _setup.ClockMs(), HelloMaxAgeMs);
        if (!verdict.IsAccepted)
        {
            _dropped++;
            _log.Warning("Refused a hello from {0}: {1}", from, verdict.Reason);
            return;
        }

        if (hello.Key.Equals(_setup.Key.PublicKey))
        {
            _dropped++;
            _log.Error("{0} holds this validator's key ({1}): two processes sign as one validator; its messages are ignored.", from, hello.Key);
            return;
        }

        var known = _validatorAt.TryGetValue(from, out var previous) && previous.Equals(hello.Key)
            && _directoryOf.TryGetValue(hello.Key, out var directory) && directory.Equals(Sender);
        if (known)
        {
            return;
        }

        // A validator that restarted elsewhere, or a new incarnation at the same address, replaces the old entry.
        foreach (var stale in _validatorAt.Where(entry => entry.Value.Equals(hello.Key)).Select(entry => entry.Key).ToList())
        {
            _validatorAt.Remove(stale);
        }

        _validatorAt[from] = hello.Key;
        _directoryOf[hello.Key] = Sender;
        _lastHeard[hello.Key] = _setup.ClockMs();
        _targets.Add(from);
        _log.Info("Validator {0} ({1}) is at {2}.", NumberOf(hello.Key), hello.Key.ToString()[..16], from);
        TellLivePeers();

        // Answered at once, so that a validator that found this one (through a seed or a peer's hint) is linked both
        // ways without waiting for membership or the next periodic greeting.
        SendHello(from);
    }

    /// <summary>A peer's hints: greeted from now on, bounded, and never trusted before their own hello.</summary>
    private void Learn(PeerAddresses peers)
    {
        var limit = _setup.Seeds.Count + (4 * _admitted.Count);
        foreach (var text in peers.Addresses)
        {
            if (_targets.Count >= limit)
            {
                return;
            }

            Address address;
            try
            {
                address = Address.Parse(text);
            }
            catch (Exception e) when (e is UriFormatException or ArgumentException or FormatException)
            {
                _dropped++;
                continue;
            }

            if (address.System == _cluster.SelfAddress.System && address.Protocol == _cluster.SelfAddress.Protocol && address.Host is not null
                && address.Port is > 0 and < 65536 && address != _cluster.SelfAddress)
            {
                _targets.Add(address);
            }
        }
    }

    /// <summary>A node that reaches no validator for a minute says so, once a minute: most likely its seed list is wrong.</summary>
    private void WarnWhenAlone()
    {
        _lonelyGreets = _validatorAt.Count == 0 ? _lonelyGreets + 1 : 0;
        if (_lonelyGreets > 0 && _lonelyGreets % (long)(TimeSpan.FromMinutes(1) / GreetInterval) == 0)
        {
            _log.Error("No validator has answered for {0} s; greeting {1}. Check akka.cluster.seed-nodes and that the other validators run.",
                (_lonelyGreets * GreetInterval).TotalSeconds, string.Join(", ", _targets));
        }
    }

    private void Heard(Address from)
    {
        if (_targets.Contains(from))
        {
            _silentLinks?.Heard(from, _setup.ClockMs());
        }
    }

    /// <summary>
    /// Closes the connections to each greeted peer that has sent nothing for the setup's CloseSilentLinksAfter while
    /// they still carry frames. A dead or cut-off peer has no such connection; a live one whose hellos never arrive is
    /// on a link Akka.Remote keeps up but no longer delivers on (a validator restarted while a dial to its old
    /// incarnation was in flight can leave one), and is dialled afresh.
    /// </summary>
    private void CloseSilentLinks()
    {
        if (_silentLinks is null)
        {
            return;
        }

        // What proven validators sent is on record already; only hellos are noted as they come (Heard).
        foreach (var (address, key) in _validatorAt)
        {
            if (_lastHeard.TryGetValue(key, out var at))
            {
                _silentLinks.Heard(address, at);
            }
        }

        foreach (var (target, silentMs) in _silentLinks.Due(_targets, _setup.ClockMs()))
        {
            var silence = $"nothing from it for {silentMs / 1000} s though greeted every {GreetInterval.TotalSeconds} s";
            if (_setup.Transport!.CloseConnectionsWith(target, LiveConnectionMs, silence) is var closed and > 0)
            {
                _log.Warning("Closed {0} connection(s) to the validator at {1}, {2}: Akka.Remote dials it afresh.", closed, target, silence);
            }
        }
    }

    /// <summary>
    /// Each peer's messages draw on a budget of its own, whoever sent them in its name (Akka does not authenticate
    /// the sender path): a flood costs this node at most the budget, and costs the other peers nothing.
    /// </summary>
    private bool WithinBudget(Ed25519PublicKey key)
    {
        if (_inboundBudget.TryTake(OrdinalOf(key), 1, _setup.ClockMs()))
        {
            return true;
        }

        if (_overLimit++ % 10_000 == 0)
        {
            _log.Warning("Dropped a message in validator {0}'s name from {1}: over its {2} messages a second ({3} dropped so far).", key,
                Sender.Path.Address, _setup.Limits.MessagesPerSecond, _overLimit);
        }

        return false;
    }

    private Ed25519PublicKey? Authenticated()
    {
        if (_validatorAt.TryGetValue(Sender.Path.Address, out var key))
        {
            _lastHeard[key] = _setup.ClockMs();
            return key;
        }

        if (_dropped++ % 1_000 == 0)
        {
            _log.Warning("Dropped a message from {0}, which has not proven it is a validator ({1} dropped so far).", Sender.Path.Address, _dropped);
        }

        return null;
    }

    private void Forget(Address address)
    {
        if (_validatorAt.Remove(address, out var key))
        {
            _directoryOf.Remove(key);
            _log.Info("Validator {0} at {1} left the cluster.", key, address);
            TellLivePeers();
        }
    }

    /// <summary>
    /// The first message: the actors inbound traffic goes to, created after this one. Sent again when a state sync
    /// at start is over (it ran with nowhere for consensus traffic to go).
    /// </summary>
    public sealed record Attach(IActorRef Consensus, IActorRef Mempool, IActorRef Sync);

    /// <summary>Where answers about snapshots go while this node syncs its state from its peers (nowhere otherwise).</summary>
    public sealed record AttachStateSync(IActorRef StateSync);

    /// <summary>A snapshot query or answer from a validator that proved itself, by its number (<see cref="PeerDirectory"/>).</summary>
    public sealed record FromValidator(int Validator, NodeMessage Message);

    /// <summary>To every validator that proved itself, except this one.</summary>
    public sealed record ToAll(object Message);

    /// <summary>To a validator by its number (<see cref="PeerDirectory"/>): its index in the current set, unless it has no vote there.</summary>
    public sealed record ToValidator(int Validator, object Message);

    /// <summary>
    /// From the consensus actor: the epoch it runs in now, the keys this node talks to (with a vote in it, the last
    /// one or one scheduled after it), and how to reach those that joined by governance.
    /// </summary>
    public sealed record EpochChanged(ChainParameters Chain, IReadOnlySet<Ed25519PublicKey> Admitted,
        IReadOnlyDictionary<Ed25519PublicKey, ValidatorContact> Contacts);

    /// <summary>From the consensus actor: the state scheduled another set; its validators may say hello from now on.</summary>
    public sealed record EpochScheduled(IReadOnlySet<Ed25519PublicKey> Admitted, IReadOnlyDictionary<Ed25519PublicKey, ValidatorContact> Contacts);

    public sealed record PeersChanged(int Connected);

    /// <summary>For the admin service: every peer that said hello, with how long ago it was last heard from (in-process only).</summary>
    public sealed record PeersQuery;

    public sealed record PeersReply(IReadOnlyList<PeerLink> Peers);

    /// <summary>A peer as the directory numbers it (its index in the current set, or 1024 and up), and whether it votes there.</summary>
    public sealed record PeerLink(int Number, Ed25519PublicKey Key, string Address, long LastHeardMsAgo, bool InSet);

    public sealed record CountersQuery
    {
        public static CountersQuery Instance { get; } = new();
    }

    public sealed record Counters(int Validators, long Dropped, long Unroutable, long OverLimit);

    private sealed record Greet
    {
        public static Greet Instance { get; } = new();
    }
}
