using System.Globalization;

namespace FastPath.Bench.Vtpm;

/// <summary>The <c>--name value</c> options of the vTPM console harnesses; an unknown name, a missing value or
/// a value out of range is an <see cref="ArgumentException"/> naming the option.</summary>
/// <remarks>Immutable after construction; read from one thread.</remarks>
internal sealed class HarnessOptions
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public HarnessOptions(string[] args, params string[] known)
    {
        for (int i = 0; i < args.Length; i += 2)
        {
            string name = args[i];
            if (Array.IndexOf(known, name) < 0)
            {
                throw new ArgumentException($"unknown option '{name}' (known: {string.Join(' ', known)})");
            }

            if (i + 1 >= args.Length)
            {
                throw new ArgumentException($"{name} needs a value");
            }

            _values[name] = args[i + 1];
        }
    }

    public int Int(string name, int fallback, int min, int max)
    {
        if (!_values.TryGetValue(name, out string? text))
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max
            ? value
            : throw new ArgumentException($"{name} {text}: must be a whole number from {min} to {max}");
    }

    /// <summary>A comma-separated list of whole numbers, each from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public int[] IntList(string name, int[] fallback, int min, int max)
    {
        if (!_values.TryGetValue(name, out string? text))
        {
            return fallback;
        }

        string[] items = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        int[] values = new int[items.Length];
        for (int i = 0; i < items.Length; i++)
        {
            if (!int.TryParse(items[i], NumberStyles.None, CultureInfo.InvariantCulture, out values[i]) || values[i] < min || values[i] > max)
            {
                throw new ArgumentException($"{name}: '{items[i]}' must be a whole number from {min} to {max}");
            }
        }

        return values.Length > 0 ? values : throw new ArgumentException($"{name}: empty list");
    }

    public string? Text(string name) => _values.GetValueOrDefault(name);

    /// <summary>A comma-separated list, every item checked against <paramref name="allowed"/>.</summary>
    public string[] List(string name, string[] fallback, string[] allowed)
    {
        if (!_values.TryGetValue(name, out string? text))
        {
            return fallback;
        }

        string[] items = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (string item in items)
        {
            if (Array.IndexOf(allowed, item) < 0)
            {
                throw new ArgumentException($"{name}: '{item}' is not one of {string.Join(", ", allowed)}");
            }
        }

        return items.Length > 0 ? items : throw new ArgumentException($"{name}: empty list");
    }
}
