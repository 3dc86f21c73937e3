@media
Feature: 1:1 audio call carries each participant's own audio
  Each participant sends a sine at its own frequency (Opus over webrtc-rs). The received
  dominant frequency proves the track came from the right participant.

  Scenario: alice and bob hear each other, and never themselves
    Given a media session with alice and bob
    When alice calls bob with audio
    And bob accepts
    Then bob receives alice's audio within 1000 ms
    And alice receives bob's audio within 1000 ms
    When media flows for 2 s
    Then bob hears alice's tone
    And alice hears bob's tone
    And no participant receives its own audio
    And the machine kept up
    And bob's tracks are:
      | owner | kind  | local | state |
      | alice | audio | no    | live  |
      | bob   | audio | yes   | live  |
