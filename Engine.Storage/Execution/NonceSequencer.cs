using IdOS.Akka.Engine.Kwil.Transactions;

namespace IdOS.Akka.Engine.Storage.Execution;

/// <summary>
/// Which of a leader's mempool candidates its proposal may carry, given account nonces. An account's transactions
/// execute only in nonce order, and one whose predecessor is missing fails for good (code 4). A validator's mempool can
/// lack a predecessor that the others hold — a validator that restarted missed what was forwarded while it was down —
/// so a leader proposes, per account, the candidates up to the first gap after the account's next nonce (its
/// committed nonce, then the blocks the proposal extends), in nonce order; what lies past a gap waits in the mempool
/// until the predecessor is committed. A nonce already used goes in, to fail with its result rather than wait for ever.
/// </summary>
public static class NonceSequencer
{
    /// <param name="candidates">The mempool's selection, in its order.</param>
    /// <param name="uncommitted">The transactions of the blocks the proposal extends, oldest block first.</param>
    /// <param name="committedNonce">An account's last committed nonce (0 for a new account), by signer and key type.</param>
    public static List<byte[]> Sequence(IReadOnlyList<byte[]> candidates, IEnumerable<IReadOnlyList<byte[]>> uncommitted, Func<byte[], string, long> committedNonce)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(uncommitted);
        ArgumentNullException.ThrowIfNull(committedNonce);
        var next = new Dictionary<string, ulong>(StringComparer.Ordinal);
        ulong Next(Account account) =>
            next.TryGetValue(account.Key, out var nonce) ? nonce : (ulong)committedNonce(account.Signer, account.KeyType) + 1;

        foreach (var block in uncommitted)
        {
            foreach (var transaction in block)
            {
                if (AccountOf(transaction) is { } account && account.Nonce == Next(account))
                {
                    next[account.Key] = account.Nonce + 1;
                }
            }
        }

        var byAccount = new Dictionary<string, List<Account>>(StringComparer.Ordinal);
        var accounts = new Account?[candidates.Count];
        for (var i = 0; i < candidates.Count; i++)
        {
            if (AccountOf(candidates[i]) is { } account)
            {
                accounts[i] = account with { Transaction = candidates[i] };
                if (!byAccount.TryGetValue(account.Key, out var list))
                {
                    byAccount[account.Key] = list = [];
                }

                list.Add(accounts[i]!);
            }
        }

        var sequence = new List<byte[]>(candidates.Count);
        for (var i = 0; i < candidates.Count; i++)
        {
            if (accounts[i] is not { } account)
            {
                // Not a signed Kwil transaction: execution refuses it with its reason; nothing to order.
                sequence.Add(candidates[i]);
                continue;
            }

            if (!byAccount.Remove(account.Key, out var ofAccount))
            {
                continue;
            }

            // An account's candidates go in together, at its first candidate's place, in nonce order up to a gap.
            var expected = Next(account);
            foreach (var candidate in ofAccount.OrderBy(a => a.Nonce))
            {
                if (candidate.Nonce > expected)
                {
                    break;
                }

                sequence.Add(candidate.Transaction!);
                if (candidate.Nonce == expected)
                {
                    expected++;
                }
            }
        }

        return sequence;
    }

    private static Account? AccountOf(byte[] transaction)
    {
        KwilTransaction decoded;
        try
        {
            decoded = KwilTransaction.FromBytes(transaction);
        }
        catch (KwilFormatException)
        {
            return null;
        }

        // Every supported authenticator requires the sender to be the signer, which admission and execution check.
        return decoded is { Sender: { } sender, Signature: { } signature }
            ? new Account(sender, KwilAuthenticator.AccountKeyType(signature.Type), decoded.Body.Nonce)
            : null;
    }

    private sealed record Account(byte[] Signer, string KeyType, ulong Nonce)
    {
        public string Key { get; } = $"{KeyType}:{Convert.ToHexString(Signer)}";

        public byte[]? Transaction { get; init; }
    }
}
