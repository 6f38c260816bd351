namespace IdOS.Akka.Engine.Kwil.Crypto;

/// <summary>
/// A thread-safe set that forgets its oldest items: two generations of <c>generationSize</c>; when the newer fills it
/// becomes the older and the older is dropped. It holds at least the last <c>generationSize</c> items added and at
/// most twice that. The memory behind both caches of verified signatures (transactions here, consensus messages in
/// the engine), where forgetting only means checking again.
/// </summary>
public sealed class RecentSet<T>
    where T : notnull
{
    private readonly int _generationSize;
    private readonly IEqualityComparer<T>? _comparer;
    private readonly Lock _gate = new();
    private HashSet<T> _current;
    private HashSet<T> _previous;

    public RecentSet(int generationSize, IEqualityComparer<T>? comparer = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(generationSize, 1);
        _generationSize = generationSize;
        _comparer = comparer;
        _current = new HashSet<T>(comparer);
        _previous = new HashSet<T>(comparer);
    }

    public void Add(T item)
    {
        lock (_gate)
        {
            if (_current.Count >= _generationSize)
            {
                _previous = _current;
                _current = new HashSet<T>(_comparer);
            }

            _current.Add(item);
        }
    }

    public bool Contains(T item)
    {
        lock (_gate)
        {
            return _current.Contains(item) || _previous.Contains(item);
        }
    }
}
