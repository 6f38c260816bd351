using IdOS.Akka.Engine.Consensus;

namespace IdOS.Akka.Engine.Application;

/// <summary>
/// The validators that signed a certificate carried by one of the last <see cref="Window"/> committed blocks: who
/// governance counts as live. It reads only committed headers, so every validator, restarted or state-synced or
/// not, works out the same set at the same height. A certificate's signers are indices into the set of its
/// block's epoch (the block before the one carrying it), so a validator that joined counts from its first signature.
/// </summary>
public sealed class RecentSigners
{
    public const int DefaultWindow = 64;

    private readonly Func<long, ValidatorSet> _setAt;
    private readonly Queue<(long Height, List<string> Signers)> _blocks = new();
    private readonly Dictionary<string, int> _signed = new(StringComparer.Ordinal);

    /// <param name="setAt">The validator set of the block at a height; known for every height up to the one being executed.</param>
    /// <param name="window">How many of the newest committed blocks count.</param>
    public RecentSigners(Func<long, ValidatorSet> setAt, int window = DefaultWindow)
    {
        ArgumentNullException.ThrowIfNull(setAt);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        _setAt = setAt;
        Window = window;
    }

    /// <summary>For a chain whose set never changes.</summary>
    public RecentSigners(ValidatorSet validators, int window = DefaultWindow)
        : this(_ => validators, window)
    {
        ArgumentNullException.ThrowIfNull(validators);
    }

    public int Window { get; }

    /// <summary>The newest height added; 0 before any.</summary>
    public long Height { get; private set; }

    /// <summary>Adds the window that ends below <paramref name="height"/> from the store's headers, bodies pruned or not.</summary>
    public void FillBelow(long height, ICommittedBlockStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        for (var h = Math.Max(1, height - Window + 1); h < height; h++)
        {
            var header = store.HeaderAt(h)?.Header ?? throw new InvalidOperationException(
                $"The committed header at height {h} is missing; governance needs the last {Window} to know who is live.");
            Add(h, header);
        }
    }

    /// <summary>Counts the signers of the certificate <paramref name="header"/> carries, and forgets the block that left the window.</summary>
    public void Add(long height, BlockHeader header)
    {
        ArgumentNullException.ThrowIfNull(header);
        if (Height != 0 && height != Height + 1)
        {
            throw new InvalidOperationException($"Committed blocks are counted in height order: {height} cannot follow {Height}.");
        }

        var set = _setAt(height - 1);
        var signers = SignerBitmap.Signers(header.Justify.Signers).Where(set.IsValidIndex).Select(index => set[index].ToString()).ToList();
        foreach (var signer in signers)
        {
            _signed[signer] = _signed.GetValueOrDefault(signer) + 1;
        }

        _blocks.Enqueue((height, signers));
        Height = height;
        while (_blocks.Peek().Height <= height - Window)
        {
            foreach (var signer in _blocks.Dequeue().Signers)
            {
                if (--_signed[signer] == 0)
                {
                    _signed.Remove(signer);
                }
            }
        }
    }

    /// <summary>The hex keys of the validators counted in the window.</summary>
    public IReadOnlySet<string> Live() => _signed.Keys.ToHashSet(StringComparer.Ordinal);
}
