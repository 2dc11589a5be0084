"""China's administrative divisions (GB/T 2260): provinces, prefectures, counties."""
