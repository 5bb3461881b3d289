from .unet_decoder import (PAPER_DECODERS, UPSAMPLE_TYPES, FCAMDecoderBlock,
                           FCAMUNetDecoder, build_decoder_upsampler,
                           count_parameters)

__all__ = [
    'FCAMUNetDecoder', 'FCAMDecoderBlock', 'build_decoder_upsampler',
    'count_parameters', 'UPSAMPLE_TYPES', 'PAPER_DECODERS'
]
