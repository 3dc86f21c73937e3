@media @vendor @voximplant
Feature: Voximplant's one inbound audio stream (seed 003), under the voximplant profile
  "A call receives only one audio stream at a time": with the rule `one_inbound_audio` on, each
  participant receives the audio of one other only. The latest to connect to it replaces the one
  before: the participant sees the previous audio track removed and its packets stop, and a
  newcomer hears the member who came in last before it. Video is not limited.

  Scenario: voximplant.one-inbound-audio — a new inbound audio stream replaces the previous one
    Given a media session under the "voximplant" dialect with alice, bob and carol
    When alice calls bob and carol with audio
    And bob accepts
    Then alice receives bob's audio within 2000 ms
    And bob receives alice's audio within 2000 ms
    When carol accepts
    Then alice receives carol's audio within 2000 ms
    And bob receives carol's audio within 2000 ms
    And carol receives bob's audio within 2000 ms
    And alice receives no audio from bob for 500 ms
    And bob receives no audio from alice for 500 ms
    And carol receives no audio from alice for 500 ms
    When media flows for 1 s
    Then alice hears carol's tone
    And carol hears bob's tone
    And no participant receives its own audio
    And alice's tracks are:
      | owner | kind  | local | state |
      | alice | audio | yes   | live  |
      | carol | audio | no    | live  |
    And carol's tracks are:
      | owner | kind  | local | state |
      | bob   | audio | no    | live  |
      | carol | audio | yes   | live  |
