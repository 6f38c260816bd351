using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Kwil.Transactions;

namespace IdOS.Akka.Engine.Cli.Localnet;

/// <summary>
/// A steady idOS write load: inserter delegates creating users (`add_user_as_inserter`), the first write of every
/// idOS onboarding. Each delegate signs with its own ed25519 key and always submits to the same node, so that its
/// nonces reach the proposer in order; the owner registers the inserter and its delegates first.
/// </summary>
public sealed class IdosLoad : IDisposable
{
    private readonly List<(Ed25519PrivateKey Key, KwilSigner Signer, ulong Nonce)> _writers;
    private readonly string _chainId;
    private readonly int _nodes;
    private int _turn;

    private IdosLoad(List<(Ed25519PrivateKey, KwilSigner, ulong)> writers, string chainId, int nodes)
    {
        _writers = writers;
        _chainId = chainId;
        _nodes = nodes;
    }

    public static async Task<IdosLoad> Prepare(TransactionDriver driver, KwilSigner owner, int writerCount, int nodes)
    {
        ArgumentNullException.ThrowIfNull(driver);
        var inserter = Guid.NewGuid();
        var writers = Enumerable.Range(0, writerCount).Select(_ =>
        {
            var key = Ed25519PrivateKey.GenerateExportable();
            return (key, KwilSigner.ForEd25519(key.PublicKey.Bytes, message => key.Sign(message)), 0UL);
        }).ToList();
        List<(string, KwilValue[])> calls = [("add_inserter_as_owner", [KwilValue.OfUuid(inserter), KwilValue.OfText("load-" + inserter.ToString("N")[..8])])];
        calls.AddRange(writers.Select(w => ("add_delegate_as_owner", new[] { KwilValue.OfText(w.Item2.Caller), KwilValue.OfUuid(inserter) })));
        await driver.RunAllOk(owner, calls, TimeSpan.FromSeconds(60));
        return new IdosLoad(writers, driver.ChainId, nodes);
    }

    /// <summary>The writers' signer identifiers (ed25519 public keys), e.g. for reading their accounts.</summary>
    public List<byte[]> Identifiers => [.. _writers.Select(w => w.Signer.Sender)];

    /// <summary><paramref name="count"/> transactions for <paramref name="node"/>, from the writers that node serves.</summary>
    public List<byte[]> Next(int node, int count)
    {
        var mine = Enumerable.Range(0, _writers.Count).Where(i => i % _nodes == node).ToList();
        var transactions = new List<byte[]>(count);
        for (var i = 0; i < count; i++)
        {
            var index = mine[_turn++ % mine.Count];
            var (key, signer, nonce) = _writers[index];
            _writers[index] = (key, signer, nonce + 1);
            transactions.Add(signer.Execute(_chainId, nonce + 1, "add_user_as_inserter",
                [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText("recipient-encryption-key"), KwilValue.OfText("user")]));
        }

        return transactions;
    }

    public void Dispose()
    {
        foreach (var (key, _, _) in _writers)
        {
            key.Dispose();
        }
    }
}
