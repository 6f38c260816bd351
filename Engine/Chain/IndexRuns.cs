using System.Buffers.Binary;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using static IdOS.Akka.Engine.Chain.IndexRunFormat;

namespace IdOS.Akka.Engine.Chain;

/// <summary>The file format of one run: hashes of 32 bytes in order, in pages of 128, then a trailer of 64 bytes.</summary>
internal static class IndexRunFormat
{
    public const int HashSize = 32;
    public const int PageHashes = 128;
    public const int TrailerSize = 64;
    public const string RunExtension = ".run";
    public const string PartialExtension = ".partial";
    public const int StreamBuffer = 1 << 20;

    public static ReadOnlySpan<byte> Magic => "IDOSTXR1"u8;

    /// <summary>A run's <paramref name="count"/> hashes in order, a buffer at a time (each chunk is valid until the next).</summary>
    public static IEnumerable<ReadOnlyMemory<byte>> Chunks(SafeFileHandle handle, long count, byte[] buffer)
    {
        for (long at = 0; at < count;)
        {
            var hashes = (int)Math.Min(buffer.Length / HashSize, count - at);
            var chunk = buffer.AsMemory(0, hashes * HashSize);
            if (RandomAccess.Read(handle, chunk.Span, at * HashSize) != chunk.Length)
            {
                throw new IOException($"A run of the transaction index ended early, at hash {at} of {count}.");
            }

            yield return chunk;
            at += hashes;
        }
    }

    /// <summary>Reads a run's trailer: magic, first and last height, count, then the SHA-256 of the hashes and those fields.</summary>
    public static bool TryReadTrailer(ReadOnlySpan<byte> trailer, out long first, out long last, out long count)
    {
        first = BinaryPrimitives.ReadInt64BigEndian(trailer[8..]);
        last = BinaryPrimitives.ReadInt64BigEndian(trailer[16..]);
        count = BinaryPrimitives.ReadInt64BigEndian(trailer[24..]);
        return trailer[..8].SequenceEqual(Magic) && first >= 1 && last >= first && count >= 0;
    }
}

/// <summary>A hash as four big-endian words, so that comparing them orders hashes as their bytes do.</summary>
internal readonly record struct HashKey(ulong W0, ulong W1, ulong W2, ulong W3) : IComparable<HashKey>
{
    public static HashKey Read(ReadOnlySpan<byte> hash) => new(
        BinaryPrimitives.ReadUInt64BigEndian(hash),
        BinaryPrimitives.ReadUInt64BigEndian(hash[8..]),
        BinaryPrimitives.ReadUInt64BigEndian(hash[16..]),
        BinaryPrimitives.ReadUInt64BigEndian(hash[24..]));

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, W0);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], W1);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], W2);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], W3);
    }

    public int CompareTo(HashKey other) =>
        W0 != other.W0 ? W0.CompareTo(other.W0)
        : W1 != other.W1 ? W1.CompareTo(other.W1)
        : W2 != other.W2 ? W2.CompareTo(other.W2)
        : W3.CompareTo(other.W3);
}

/// <summary>One immutable run: its file, the heights it covers, and the first word of each page's first hash.</summary>
internal sealed class IndexRun(string path, SafeFileHandle handle, long first, long last, long count, ulong[] fences) : IDisposable
{
    public string Path { get; } = path;

    public SafeFileHandle Handle { get; } = handle;

    public long First { get; } = first;

    public long Last { get; } = last;

    public long Count { get; } = count;

    /// <summary>Opens and checks a run file in full; null when it is not a whole, sorted run with a true checksum.</summary>
    public static IndexRun? Load(string path)
    {
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        try
        {
            if (Check(handle) is { } run)
            {
                return new IndexRun(path, handle, run.First, run.Last, run.Count, run.Fences);
            }
        }
        catch
        {
            handle.Dispose();
            throw;
        }

        handle.Dispose();
        return null;
    }

    /// <summary>The trailer's heights and count and the page fences, if the trailer fits the file, the hashes ascend and the checksum holds.</summary>
    private static (long First, long Last, long Count, ulong[] Fences)? Check(SafeFileHandle handle)
    {
        var length = RandomAccess.GetLength(handle);
        var trailer = new byte[TrailerSize];
        if (length < TrailerSize || (length - TrailerSize) % HashSize != 0
            || RandomAccess.Read(handle, trailer, length - TrailerSize) != TrailerSize
            || !TryReadTrailer(trailer, out var first, out var last, out var count)
            || count != (length - TrailerSize) / HashSize)
        {
            return null;
        }

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var fences = new ulong[(count + PageHashes - 1) / PageHashes];
        HashKey? previous = null;
        long index = 0;
        foreach (var chunk in Chunks(handle, count, new byte[StreamBuffer]))
        {
            sha.AppendData(chunk.Span);
            for (var at = 0; at < chunk.Length; at += HashSize, index++)
            {
                var key = HashKey.Read(chunk.Span.Slice(at, HashSize));
                if (previous is { } before && before.CompareTo(key) >= 0)
                {
                    return null;
                }

                if (index % PageHashes == 0)
                {
                    fences[index / PageHashes] = key.W0;
                }

                previous = key;
            }
        }

        sha.AppendData(trailer.AsSpan(0, 32));
        return sha.GetHashAndReset().AsSpan().SequenceEqual(trailer.AsSpan(32)) ? (first, last, count, fences) : null;
    }

    /// <summary>
    /// Reads the pages that can hold the hash: the one before the first page whose fence is not below the hash's
    /// first word, and any that start with that same word (hashes can share eight bytes across a page boundary).
    /// </summary>
    public bool Contains(ReadOnlySpan<byte> hash, byte[] page)
    {
        var key = HashKey.Read(hash);
        var firstNotBelow = LowerBound(key.W0);
        for (var p = Math.Max(firstNotBelow - 1, 0); p < fences.Length && (p < firstNotBelow || fences[p] == key.W0); p++)
        {
            var inPage = (int)Math.Min(PageHashes, Count - ((long)p * PageHashes));
            var span = page.AsSpan(0, inPage * HashSize);
            RandomAccess.Read(Handle, span, (long)p * PageHashes * HashSize);
            int low = 0, high = inPage - 1;
            while (low <= high)
            {
                var middle = (low + high) >>> 1;
                var order = HashKey.Read(span.Slice(middle * HashSize, HashSize)).CompareTo(key);
                if (order == 0)
                {
                    return true;
                }

                (low, high) = order < 0 ? (middle + 1, high) : (low, middle - 1);
            }
        }

        return false;
    }

    public void Dispose() => Handle.Dispose();

    private int LowerBound(ulong word)
    {
        int low = 0, high = fences.Length;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            (low, high) = fences[middle] < word ? (middle + 1, high) : (low, middle);
        }

        return low;
    }
}

/// <summary>Streams a new run to a partial file, checksumming as it goes; <see cref="Finish"/> renames it into place.</summary>
internal sealed class IndexRunWriter : IDisposable
{
    private readonly string _path;
    private readonly long _first;
    private readonly long _last;
    private readonly FileStream _stream;
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly List<ulong> _fences = [];

    // Hashes are written and checksummed a buffer at a time: a write and a call into OpenSSL for each 32-byte
    // hash cost more than the hashing itself (docs/BENCHMARKS.md, the index writer).
    private readonly byte[] _pending;
    private int _pendingBytes;
    private HashKey? _previous;
    private long _count;
    private bool _finished;

    /// <param name="path">Where the run goes once finished.</param>
    /// <param name="first">The first height the run covers.</param>
    /// <param name="last">The last height the run covers.</param>
    /// <param name="hashes">At most how many hashes will be added: sizes the write buffer.</param>
    public IndexRunWriter(string path, long first, long last, long hashes)
    {
        (_path, _first, _last) = (path, first, last);
        _pending = new byte[(int)Math.Clamp(hashes, 1, StreamBuffer / HashSize) * HashSize];
        _stream = new FileStream(path + PartialExtension, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
    }

    /// <summary>Adds the next hash; one equal to the last is written once.</summary>
    public void Add(HashKey key)
    {
        if (_previous is { } previous && previous.CompareTo(key) >= 0)
        {
            return;
        }

        if (_count % PageHashes == 0)
        {
            _fences.Add(key.W0);
        }

        key.Write(_pending.AsSpan(_pendingBytes, HashSize));
        _pendingBytes += HashSize;
        if (_pendingBytes == _pending.Length)
        {
            WritePending();
        }

        _previous = key;
        _count++;
    }

    public IndexRun Finish()
    {
        WritePending();
        Span<byte> trailer = stackalloc byte[TrailerSize];
        Magic.CopyTo(trailer);
        BinaryPrimitives.WriteInt64BigEndian(trailer[8..], _first);
        BinaryPrimitives.WriteInt64BigEndian(trailer[16..], _last);
        BinaryPrimitives.WriteInt64BigEndian(trailer[24..], _count);
        _sha.AppendData(trailer[..32]);
        _sha.GetHashAndReset(trailer[32..]);
        _stream.Write(trailer);
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        File.Move(_path + PartialExtension, _path, overwrite: true);
        _finished = true;
        return new IndexRun(_path, File.OpenHandle(_path, FileMode.Open, FileAccess.Read), _first, _last, _count, [.. _fences]);
    }

    private void WritePending()
    {
        var filled = _pending.AsSpan(0, _pendingBytes);
        _stream.Write(filled);
        _sha.AppendData(filled);
        _pendingBytes = 0;
    }

    public void Dispose()
    {
        _stream.Dispose();
        _sha.Dispose();
        if (!_finished)
        {
            File.Delete(_path + PartialExtension);
        }
    }
}

/// <summary>Reads a run's hashes in order, through a large buffer.</summary>
internal sealed class IndexRunReader
{
    private readonly byte[] _buffer;
    private readonly IEnumerator<ReadOnlyMemory<byte>> _chunks;
    private int _at;
    private int _end;

    public IndexRunReader(IndexRun run)
    {
        _buffer = new byte[(int)Math.Clamp(run.Count, 1, StreamBuffer / HashSize) * HashSize];
        _chunks = Chunks(run.Handle, run.Count, _buffer).GetEnumerator();
        MoveNext();
    }

    public bool HasCurrent { get; private set; }

    public HashKey Current { get; private set; }

    public void MoveNext()
    {
        if (_at == _end)
        {
            if (!_chunks.MoveNext())
            {
                HasCurrent = false;
                return;
            }

            (_at, _end) = (0, _chunks.Current.Length);
        }

        Current = HashKey.Read(_buffer.AsSpan(_at, HashSize));
        _at += HashSize;
        HasCurrent = true;
    }
}
