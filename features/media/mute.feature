@media
Feature: Mute stops a track and the other side sees it muted
  Scenario: alice mutes and unmutes her audio
    Given a media session with alice and bob
    When alice calls bob with audio
    And bob accepts
    Then bob receives alice's audio within 1000 ms
    When alice mutes her audio
    Then bob receives no audio from alice for 500 ms
    And bob's tracks are:
      | owner | kind  | local | state |
      | alice | audio | no    | muted |
      | bob   | audio | yes   | live  |
    When alice unmutes her audio
    Then alice's audio reaches bob again within 300 ms
    And bob's tracks are:
      | owner | kind  | local | state |
      | alice | audio | no    | live  |
      | bob   | audio | yes   | live  |
