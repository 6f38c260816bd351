using System.Buffers.Binary;
using System.Security.Cryptography;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// The permissioned validator set from genesis, in genesis order. Every validator has weight 1, so
/// f = floor((n - 1) / 3) and a quorum is n - f distinct signers.
/// </summary>
public sealed class ValidatorSet
{
    public const int MaxValidators = 1024;

    private static readonly byte[] HashDomain = "idos-akka/validator-set/v1"u8.ToArray();

    private readonly Ed25519PublicKey[] _keys;
    private readonly int[]? _leaderSchedule;

    /// <param name="keys">The validators' public keys in genesis order.</param>
    /// <param name="leaderSchedule">
    /// Leaves round-robin (Leader(r) = validators[r mod n]) for a fixed cycle of leaders, Leader(r) =
    /// schedule[r mod length]. Genesis fixes it like the keys. The simulator uses it as the Twins generator does, to
    /// put one identity in charge of consecutive rounds.
    /// </param>
    public ValidatorSet(IReadOnlyList<Ed25519PublicKey> keys, IReadOnlyList<int>? leaderSchedule = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count is < 1 or > MaxValidators)
        {
            throw new ArgumentException($"A validator set has 1 to {MaxValidators} validators, got {keys.Count}.", nameof(keys));
        }

        if (keys.Distinct().Count() != keys.Count)
        {
            throw new ArgumentException("A validator key appears twice in the validator set.", nameof(keys));
        }

        _keys = [.. keys];
        if (leaderSchedule is not null)
        {
            if (leaderSchedule.Count == 0 || leaderSchedule.Any(i => (uint)i >= (uint)keys.Count))
            {
                throw new ArgumentException($"A leader schedule names validators 0 to {keys.Count - 1} and is not empty.", nameof(leaderSchedule));
            }

            _leaderSchedule = [.. leaderSchedule];
        }

        Hash = ComputeHash(_keys);
    }

    /// <summary>
    /// SHA-256 over the keys in index order: what a block header names its set by. Governance computes the same over
    /// the sets it schedules, from their hex keys.
    /// </summary>
    public Hash32 Hash { get; }

    /// <summary>The leader cycle, or null for plain round-robin.</summary>
    public IReadOnlyList<int>? LeaderSchedule => _leaderSchedule;

    public int Count => _keys.Length;

    public int MaxFaulty => (Count - 1) / 3;

    public int Quorum => Count - MaxFaulty;

    /// <summary>f + 1 signers include at least one correct validator.</summary>
    public int OneHonest => MaxFaulty + 1;

    public int BitmapLength => (Count + 7) / 8;

    public Ed25519PublicKey this[int index] => _keys[index];

    public bool IsValidIndex(int index) => (uint)index < (uint)_keys.Length;

    /// <summary>Deterministic: every validator computes the same leader for a round.</summary>
    public int LeaderOf(long round) => _leaderSchedule is null
        ? (int)(round % _keys.Length)
        : _leaderSchedule[(int)(round % _leaderSchedule.Length)];

    private static Hash32 ComputeHash(Ed25519PublicKey[] keys)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(HashDomain);
        Span<byte> count = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(count, keys.Length);
        hash.AppendData(count);
        foreach (var key in keys)
        {
            hash.AppendData(key.Bytes);
        }

        return new Hash32(hash.GetHashAndReset());
    }
}
