
namespace IdOS.Akka.Engine.Kwil.Crypto;

/// <summary>
/// Transactions whose signature this node has already checked, by the SHA-256 of their bytes: the mempool checks
/// every transaction it admits, so execution need not check the same bytes again. Bounded by two generations of
/// <see cref="GenerationSize"/> hashes; a transaction that aged out is simply checked again.
/// </summary>
public sealed class VerifiedSignatures
{
    public const int GenerationSize = 100_000;

    private readonly RecentSet<string> _hashes = new(GenerationSize, StringComparer.Ordinal);

    public void Add(byte[] transactionHash) => _hashes.Add(Convert.ToBase64String(transactionHash));

    public bool Contains(byte[] transactionHash) => _hashes.Contains(Convert.ToBase64String(transactionHash));
}
