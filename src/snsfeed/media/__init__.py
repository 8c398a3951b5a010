"""Media: uploads, image variants, video transcoding, storage backends and public URLs."""
