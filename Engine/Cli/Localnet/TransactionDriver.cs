using Akka.Actor;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Gateway;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Network;

namespace IdOS.Akka.Engine.Cli.Localnet;

/// <summary>A transaction of a scenario that did not come to the code expected of it.</summary>
public sealed class ScenarioFailedException(string message) : Exception(message)
{
    public ScenarioFailedException()
        : this("the scenario failed")
    {
    }

    public ScenarioFailedException(string message, Exception inner)
        : this(message + ": " + inner.Message)
    {
    }
}

/// <summary>
/// Sends signed idOS transactions to running validators the way a client would, one at a time, and waits for each
/// to be executed: nonces come from the node, results from its query actor.
/// </summary>
public sealed class TransactionDriver(NodeClient client, IReadOnlyList<Address> nodes, string chainId)
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);
    private readonly Dictionary<string, ulong> _nonces = new(StringComparer.Ordinal);
    private int _next;

    public string ChainId => chainId;

    /// <summary>Submits the call and waits until it is executed; returns its outcome.</summary>
    public async Task<TransactionOutcome> Run(KwilSigner signer, string action, KwilValue[] arguments, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(signer);
        var node = nodes[_next++ % nodes.Count];
        var nonce = await NextNonce(signer, node);
        var transaction = signer.Execute(chainId, nonce, action, arguments);
        var hash = Block.TransactionHash(transaction);
        var submitted = await client.Submit(node, [transaction], AskTimeout);
        if (submitted.Results[0].Status != MempoolAddStatus.Added)
        {
            throw new ScenarioFailedException($"{action} was refused by the mempool: {submitted.Results[0].Status} {submitted.Results[0].Reason}");
        }

        _nonces[Key(signer)] = nonce;
        return await Executed(node, hash, action, timeout);
    }

    /// <summary>
    /// Many calls by one signer in one submission with consecutive nonces (a node keeps their order), waiting until
    /// the last is executed; a failure unless all succeed.
    /// </summary>
    public async Task RunAllOk(KwilSigner signer, IReadOnlyList<(string Action, KwilValue[] Arguments)> calls, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(calls);
        var node = nodes[_next++ % nodes.Count];
        var nonce = await NextNonce(signer, node);
        var transactions = calls.Select((call, i) => signer.Execute(chainId, nonce + (ulong)i, call.Action, call.Arguments)).ToList();
        var submitted = await client.Submit(node, transactions, AskTimeout);
        foreach (var result in submitted.Results.Where(r => r.Status != MempoolAddStatus.Added))
        {
            throw new ScenarioFailedException($"the mempool refused a transaction: {result.Status} {result.Reason}");
        }

        _nonces[Key(signer)] = nonce + (ulong)calls.Count - 1;
        for (var i = 0; i < transactions.Count; i++)
        {
            var outcome = await Executed(node, Block.TransactionHash(transactions[i]), calls[i].Action, timeout);
            if (outcome.Code != 0)
            {
                throw new ScenarioFailedException($"{calls[i].Action} came to code {outcome.Code} ({outcome.Log})");
            }
        }
    }

    /// <summary><see cref="Run"/>, and a failure unless the result has <paramref name="expectedCode"/>.</summary>
    public async Task<TransactionOutcome> Expect(int expectedCode, KwilSigner signer, string action, KwilValue[] arguments, TimeSpan timeout)
    {
        var outcome = await Run(signer, action, arguments, timeout);
        return outcome.Code == expectedCode
            ? outcome
            : throw new ScenarioFailedException($"{action} came to code {outcome.Code} ({outcome.Log}); expected {expectedCode}");
    }

    private async Task<ulong> NextNonce(KwilSigner signer, Address node)
    {
        if (_nonces.TryGetValue(Key(signer), out var last))
        {
            return last + 1;
        }

        var account = await client.Account(node, signer.Sender, KwilAuthenticator.AccountKeyType(signer.SignatureType), AskTimeout);
        return (ulong)account.NextNonce;
    }

    private async Task<TransactionOutcome> Executed(Address node, Hash32 hash, string action, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            var answer = await client.Results(node, [hash], AskTimeout);
            if (answer.Results[0] is { } outcome)
            {
                return outcome;
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new ScenarioFailedException($"{action} ({hash.ToShortString()}) was not executed within {timeout.TotalSeconds:0} s");
            }
        }
    }

    private static string Key(KwilSigner signer) => signer.SignatureType + ":" + Convert.ToHexStringLower(signer.Sender);
}
