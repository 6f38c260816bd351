namespace IdOS.Akka.Engine.Kwil.Crypto;

/// <summary>
/// <see cref="RecentSet{T}"/> with a value per key: thread-safe, two generations of <c>generationSize</c>, the older
/// dropped when the newer fills. For what is worth keeping a while and cheap to rebuild when forgotten.
/// </summary>
public sealed class RecentMap<TKey, TValue>
    where TKey : notnull
{
    private readonly int _generationSize;
    private readonly Lock _gate = new();
    private Dictionary<TKey, TValue> _current = [];
    private Dictionary<TKey, TValue> _previous = [];

    public RecentMap(int generationSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(generationSize, 1);
        _generationSize = generationSize;
    }

    public void Add(TKey key, TValue value)
    {
        lock (_gate)
        {
            if (_current.Count >= _generationSize)
            {
                _previous = _current;
                _current = [];
            }

            _current[key] = value;
        }
    }

    /// <summary>The value, which the map forgets: whoever takes it was the last to need it.</summary>
    public bool TryTake(TKey key, out TValue value)
    {
        lock (_gate)
        {
            return _current.Remove(key, out value!) || _previous.Remove(key, out value!);
        }
    }
}
