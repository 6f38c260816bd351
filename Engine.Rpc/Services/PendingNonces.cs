namespace IdOS.Akka.Engine.Rpc.Services;

/// <summary>
/// The next nonce of each account past its transactions in flight through this RPC node (admitted to a mempool, not
/// yet executed), so that `user.account` with status 1 and the nonce check of `user.broadcast` count pending
/// transactions as kwild does. An entry goes once the executed state has caught up with it, or when nothing of it was
/// executed for <paramref name="expiry"/>: a transaction a mempool dropped must not block its account for good.
/// </summary>
public sealed class PendingNonces(TimeProvider clock, TimeSpan expiry)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (long Next, DateTimeOffset At)> _next = new(StringComparer.Ordinal);

    /// <summary>The nonce after those in flight, or <paramref name="executedNext"/> (the state's next) when none is.</summary>
    public long Next(byte[] identifier, string keyType, long executedNext)
    {
        var key = Key(identifier, keyType);
        lock (_gate)
        {
            if (_next.TryGetValue(key, out var pending) && pending.Next > executedNext && clock.GetUtcNow() - pending.At < expiry)
            {
                return pending.Next;
            }

            _next.Remove(key);
            return executedNext;
        }
    }

    /// <summary>A transaction with <paramref name="nonce"/> is in flight: the account's next is past it.</summary>
    public void Admitted(byte[] identifier, string keyType, long nonce)
    {
        var key = Key(identifier, keyType);
        lock (_gate)
        {
            var known = _next.TryGetValue(key, out var pending) ? pending.Next : 0;
            _next[key] = (Math.Max(nonce + 1, known), clock.GetUtcNow());
        }
    }

    private static string Key(byte[] identifier, string keyType) => keyType + ":" + Convert.ToHexStringLower(identifier);
}
