namespace IdOS.Akka.Engine.Rpc.Services;

/// <summary>
/// The highest nonce each account has in flight through this RPC node (admitted to a mempool, not yet executed),
/// so that `user.account` with status 1 and the nonce check of `user.broadcast` count pending transactions as
/// kwild does. An entry goes once the executed nonce has caught up with it, or when nothing of it was executed for
/// <paramref name="expiry"/>: a transaction a mempool dropped must not block its account for good.
/// </summary>
public sealed class PendingNonces(TimeProvider clock, TimeSpan expiry)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (long Nonce, DateTimeOffset At)> _highest = new(StringComparer.Ordinal);

    /// <summary>The highest nonce in flight, or the last executed one when none is.</summary>
    public long Highest(byte[] identifier, string keyType, long lastExecuted)
    {
        var key = Key(identifier, keyType);
        lock (_gate)
        {
            if (_highest.TryGetValue(key, out var pending) && pending.Nonce > lastExecuted && clock.GetUtcNow() - pending.At < expiry)
            {
                return pending.Nonce;
            }

            _highest.Remove(key);
            return lastExecuted;
        }
    }

    public void Admitted(byte[] identifier, string keyType, long nonce)
    {
        var key = Key(identifier, keyType);
        lock (_gate)
        {
            var known = _highest.TryGetValue(key, out var pending) ? pending.Nonce : 0;
            _highest[key] = (Math.Max(nonce, known), clock.GetUtcNow());
        }
    }

    private static string Key(byte[] identifier, string keyType) => keyType + ":" + Convert.ToHexStringLower(identifier);
}
