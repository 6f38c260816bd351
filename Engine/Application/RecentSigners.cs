using IdOS.Akka.Engine.Consensus;

namespace IdOS.Akka.Engine.Application;

/// <summary>
/// The validators that signed a certificate carried by one of the last <see cref="Window"/> committed blocks: who
/// governance counts as live. It reads only committed headers, so every validator, restarted or state-synced or
/// not, works out the same set at the same height.
/// </summary>
public sealed class RecentSigners
{
    public const int DefaultWindow = 64;

    private readonly ValidatorSet _validators;
    private readonly string[] _keys;
    private readonly Queue<(long Height, List<int> Signers)> _blocks = new();
    private readonly int[] _signed;

    public RecentSigners(ValidatorSet validators, int window = DefaultWindow)
    {
        ArgumentNullException.ThrowIfNull(validators);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        _validators = validators;
        _keys = [.. Enumerable.Range(0, validators.Count).Select(i => validators[i].ToString())];
        _signed = new int[validators.Count];
        Window = window;
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

        var signers = SignerBitmap.Signers(header.Justify.Signers).Where(_validators.IsValidIndex).ToList();
        foreach (var signer in signers)
        {
            _signed[signer]++;
        }

        _blocks.Enqueue((height, signers));
        Height = height;
        while (_blocks.Peek().Height <= height - Window)
        {
            foreach (var signer in _blocks.Dequeue().Signers)
            {
                _signed[signer]--;
            }
        }
    }

    /// <summary>The hex keys of the validators counted in the window.</summary>
    public IReadOnlySet<string> Live() =>
        _keys.Where((_, index) => _signed[index] > 0).ToHashSet(StringComparer.Ordinal);
}
