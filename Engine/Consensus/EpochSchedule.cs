using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>A validator set the chain scheduled: decided by the block at <paramref name="DecidedHeight"/>, in force from <paramref name="StartHeight"/>.</summary>
public sealed record ScheduledEpoch(long Epoch, long DecidedHeight, long StartHeight, ValidatorSet Validators)
{
    /// <summary>How to reach the validators that joined by governance, by key; genesis validators are in the genesis file.</summary>
    public IReadOnlyDictionary<Ed25519PublicKey, ValidatorContact> Contacts { get; init; } = new Dictionary<Ed25519PublicKey, ValidatorContact>();
}

/// <summary>The TLS certificate pins (SHA-256 of the certificate's public key, hex) and the host:port a joining validator gave.</summary>
public sealed record ValidatorContact(IReadOnlyList<string> Pins, string Address);

/// <summary>
/// Every validator set of a chain so far, genesis first, as its executed state scheduled them: which epoch a height
/// belongs to and the chain parameters a replica of that epoch runs with. Epochs are consecutive, each starting after
/// the one before and decided before it starts.
/// </summary>
public sealed class EpochSchedule
{
    private readonly List<ScheduledEpoch> _epochs;
    private readonly List<ChainParameters> _chains;

    public EpochSchedule(ChainParameters genesis, IEnumerable<ScheduledEpoch> scheduled)
    {
        ArgumentNullException.ThrowIfNull(genesis);
        ArgumentNullException.ThrowIfNull(scheduled);
        _epochs = [new ScheduledEpoch(0, 0, 1, genesis.Validators)];
        _chains = [genesis];
        foreach (var epoch in scheduled)
        {
            Add(epoch);
        }
    }

    public ChainParameters Genesis => _chains[0];

    public int Count => _epochs.Count;

    public ScheduledEpoch this[long epoch] => _epochs[(int)epoch];

    /// <summary>Every epoch so far, genesis's first.</summary>
    public IReadOnlyList<ScheduledEpoch> All => _epochs;

    /// <summary>Adds the set the state scheduled next; one already known is ignored (the executor may report it twice).</summary>
    public void Add(ScheduledEpoch epoch)
    {
        ArgumentNullException.ThrowIfNull(epoch);
        if (epoch.Epoch < _epochs.Count)
        {
            return;
        }

        var last = _epochs[^1];
        if (epoch.Epoch != last.Epoch + 1 || epoch.StartHeight <= last.StartHeight || epoch.DecidedHeight >= epoch.StartHeight)
        {
            throw new ArgumentException($"Epoch {epoch.Epoch} (decided at {epoch.DecidedHeight}, from {epoch.StartHeight}) does not follow epoch {last.Epoch} from {last.StartHeight}.",
                nameof(epoch));
        }

        _epochs.Add(epoch);
        _chains.Add(Genesis.ForEpoch(epoch.Epoch, epoch.Validators));
    }

    public ChainParameters Chain(long epoch) => _chains[(int)epoch];

    /// <summary>The epoch of the block at <paramref name="height"/>.</summary>
    public long EpochOf(long height)
    {
        var epoch = _epochs.Count - 1;
        while (epoch > 0 && _epochs[epoch].StartHeight > height)
        {
            epoch--;
        }

        return epoch;
    }

    /// <summary>The epoch whose set votes on the block after <paramref name="committedHeight"/>.</summary>
    public long EpochAfter(long committedHeight) => EpochOf(committedHeight + 1);

    /// <summary>The start and set of the epoch after <paramref name="epoch"/>, once the state decided it; null while none is.</summary>
    public NextEpoch? Next(long epoch) =>
        epoch + 1 < _epochs.Count ? new NextEpoch(_epochs[(int)epoch + 1].StartHeight, _chains[(int)epoch + 1].Validators.Hash) : null;

    /// <summary>This key's index in <paramref name="epoch"/>'s set; -1 when it has no vote there.</summary>
    public int IndexOf(long epoch, Ed25519PublicKey key)
    {
        var validators = _epochs[(int)epoch].Validators;
        for (var i = 0; i < validators.Count; i++)
        {
            if (validators[i].Equals(key))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Every key that has or will have a vote in some epoch from <paramref name="fromEpoch"/> on.</summary>
    public IReadOnlySet<Ed25519PublicKey> KeysFrom(long fromEpoch)
    {
        var keys = new HashSet<Ed25519PublicKey>();
        for (var epoch = (int)Math.Max(0, fromEpoch); epoch < _epochs.Count; epoch++)
        {
            var validators = _epochs[epoch].Validators;
            for (var i = 0; i < validators.Count; i++)
            {
                keys.Add(validators[i]);
            }
        }

        return keys;
    }
}
