//! Every participant's tone survives Opus and is told apart by its dominant frequency.

use std::time::Duration;

use callconf::media::analyze::dominant_hz;
use callconf::media::codec::AudioDecoder;
use callconf::media::synth::{AUDIO_FRAME_SAMPLES, AUDIO_RATE_HZ, AudioSource, tone_hz};

use crate::support::NEXT_TIMEOUT;

/// Packets pulled per tone (600 ms); the first few (codec start-up) are not analysed.
const PACKETS: usize = 30;
const WARMUP_PACKETS: usize = 5;

#[test]
fn each_participant_tone_decodes_to_its_frequency() {
    let tones: Vec<u32> = (0..8).map(tone_hz).collect();
    for pair in tones.windows(2) {
        assert!(
            pair[1] >= pair[0] + 100,
            "tones are well separated: {tones:?}"
        );
    }
    // All eight run at once, read round-robin, so the test lasts as long as one tone.
    let mut sources: Vec<AudioSource> = tones
        .iter()
        .map(|&hz| AudioSource::start(hz).expect("audio source starts"))
        .collect();
    let mut decoders: Vec<AudioDecoder> = (0..8)
        .map(|_| AudioDecoder::new().expect("decoder starts"))
        .collect();
    let mut decoded: Vec<Vec<i16>> = vec![Vec::new(); 8];
    for round in 0..PACKETS {
        for i in 0..8 {
            let packet = sources[i]
                .next(NEXT_TIMEOUT)
                .expect("the source keeps running")
                .expect("a packet every 20 ms");
            let pts = Duration::from_millis(20) * packet.seq as u32;
            let samples = decoders[i].decode(&packet.data, pts).expect("Opus decodes");
            assert_eq!(
                samples.len(),
                AUDIO_FRAME_SAMPLES as usize,
                "20 ms at 48 kHz"
            );
            if round >= WARMUP_PACKETS {
                decoded[i].extend_from_slice(&samples);
            }
        }
    }
    for (i, samples) in decoded.iter().enumerate() {
        let hz = dominant_hz(samples, AUDIO_RATE_HZ).expect("a tone is not silence");
        eprintln!("tone {i}: sent {} Hz, measured {hz:.2} Hz", tones[i]);
        assert!(
            (hz - f64::from(tones[i])).abs() <= 3.0,
            "tone {i}: {hz:.2} Hz vs {}",
            tones[i]
        );
    }
}

#[test]
fn silence_has_no_dominant_frequency() {
    assert_eq!(dominant_hz(&[0; 4800], 48_000), None);
    assert_eq!(
        dominant_hz(&[1000; 4800], 48_000),
        None,
        "DC alone is silence"
    );
    let hiss: Vec<i16> = (0..4800).map(|i| [-2, 1, 3, -1, 0, 2][i % 6]).collect();
    assert_eq!(
        dominant_hz(&hiss, 48_000),
        None,
        "below -70 dBFS is silence"
    );
    assert_eq!(dominant_hz(&[], 48_000), None);
    assert_eq!(
        dominant_hz(&sine(1000.0, 4800), 0),
        None,
        "no rate, no frequency"
    );
}

#[test]
fn a_pure_sine_is_measured_to_within_a_hertz() {
    for hz in [100.0, 440.0, 987.5, 1210.0, 5000.0] {
        let measured = dominant_hz(&sine(hz, 4800), 48_000).expect("a sine is not silence");
        assert!(
            (measured - hz).abs() <= 1.0,
            "{hz} Hz measured as {measured:.3} Hz"
        );
    }
}

fn sine(hz: f64, n: usize) -> Vec<i16> {
    (0..n)
        .map(|i| (10_000.0 * (2.0 * std::f64::consts::PI * hz * i as f64 / 48_000.0).sin()) as i16)
        .collect()
}
