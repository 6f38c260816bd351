namespace IdOS.Akka.Engine.Storage.Execution;

/// <summary>
/// Transactions whose signature this node has already checked, by the SHA-256 of their bytes: the mempool checks
/// every transaction it admits, so execution need not check the same bytes again. Bounded by two generations of
/// <see cref="GenerationSize"/> hashes; a transaction that aged out is simply checked again.
/// </summary>
public sealed class VerifiedSignatures
{
    public const int GenerationSize = 100_000;

    private readonly Lock _gate = new();
    private HashSet<string> _current = new(StringComparer.Ordinal);
    private HashSet<string> _previous = new(StringComparer.Ordinal);

    public void Add(byte[] transactionHash)
    {
        var key = Convert.ToBase64String(transactionHash);
        lock (_gate)
        {
            if (_current.Count >= GenerationSize)
            {
                _previous = _current;
                _current = new HashSet<string>(StringComparer.Ordinal);
            }

            _current.Add(key);
        }
    }

    public bool Contains(byte[] transactionHash)
    {
        var key = Convert.ToBase64String(transactionHash);
        lock (_gate)
        {
            return _current.Contains(key) || _previous.Contains(key);
        }
    }
}
