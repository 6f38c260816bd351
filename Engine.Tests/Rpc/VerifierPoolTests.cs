using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Kwil.Transactions;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Rpc;

/// <summary>
/// The verifier pool answers as the mempool's own checks would — on its own threads, not the caller's — and many
/// concurrent requests each get their own verdict.
/// </summary>
[Trait("Category", "Unit")]
public sealed class VerifierPoolTests : IDisposable
{
    private const string Chain = "pool-test";
    private readonly RpcActors _actors = new(verifiers: 3);

    public void Dispose() => _actors.Dispose();

    [Fact]
    public async Task Concurrent_transactions_each_get_the_verdict_the_gate_gives()
    {
        var evm = KwilSigner.ForEvm(EvmKey.Generate());
        using var key = NSec.Cryptography.Key.Create(NSec.Cryptography.SignatureAlgorithm.Ed25519);
        var ed = KwilSigner.ForEd25519(key);
        var transactions = Enumerable.Range(1, 40).Select(i => (i % 2 == 0 ? evm : ed).Execute(i % 5 == 0 ? "elsewhere" : Chain, (ulong)i, "get_user", [])).ToList();
        var forged = transactions[0].ToArray();
        forged[^1] ^= 1;
        transactions.Add(forged);

        var verdicts = await Task.WhenAll(transactions.Select(t => _actors.Verifiers.Transaction(KwilTransaction.FromBytes(t), Chain, CancellationToken.None)));

        for (var i = 0; i < transactions.Count; i++)
        {
            var expected = TransactionGate.Check(transactions[i], Chain, Secp256k1.Recovery);
            Assert.Equal((expected.Code, expected.Log), (verdicts[i].Code, verdicts[i].Log));
        }

        Assert.Contains(verdicts, v => v.IsAdmitted);
        Assert.Contains(verdicts, v => v.Code == TxCode.WrongChain);
        Assert.False(verdicts[^1].IsAdmitted);
    }

    [Fact]
    public async Task A_signed_message_verifies_only_for_its_signer_and_text()
    {
        var wallet = EvmKey.Generate();
        var text = "node wants you to sign in"u8.ToArray();
        var signature = wallet.SignPersonal(text);

        var good = await _actors.Verifiers.Message(KwilAuthenticator.EthereumPersonalSign, wallet.Address, text, signature, CancellationToken.None);
        var otherText = await _actors.Verifiers.Message(KwilAuthenticator.EthereumPersonalSign, wallet.Address, [.. text, 0x21], signature, CancellationToken.None);
        var otherSigner = await _actors.Verifiers.Message(KwilAuthenticator.EthereumPersonalSign, EvmKey.Generate().Address, text, signature, CancellationToken.None);

        Assert.True(good.IsValid);
        Assert.False(otherText.IsValid);
        Assert.False(otherSigner.IsValid);
    }
}
